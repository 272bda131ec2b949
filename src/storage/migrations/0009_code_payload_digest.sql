-- Settlement at the cost of its database work (issue #11): the platform keeps the SM3 digest of
-- each QR payload it signs. A ride whose payload has the digest of its code's record is the
-- payload the platform issued, so settlement needs no SM2 verification for it (the POS checked
-- the signature offline; a payload that differs is verified as before). Codes issued before this
-- migration have no digest and are verified.
ALTER TABLE code_requests ADD COLUMN payload_digest BYTEA;
