-- Evidence with every violation (DESIGN §3.6 rule 7; docs/PROTOCOL.md §9.10). A clone is two
-- shows of one serial; to let anyone with the published issuer keys check a violation, the
-- registry keeps each first show as it came, with what it was verified against, and the
-- violation keeps both shows and the issuer's proofs of their MACs.

-- The show request's bytes, exactly as received, and its context as JSON:
--   {"op":N,"scopes":[B…],"identity":hex(J)|null,"wallet":B,"accountid":…,"amount":fen}
-- `scopes` and `identity` (for a refund, the J the show was proven against) are what a verifier
-- needs besides the bytes; wallet, accountid and amount are for the auditor. The context's
-- `extra` is not kept (for a refund it holds the rider's name, ID number and bank account).
-- NULL in rows written before this migration: a clone of such a show has no evidence.
ALTER TABLE certification_transactions ADD COLUMN show_request BYTEA;
ALTER TABLE certification_transactions ADD COLUMN show_context TEXT;

-- The evidence document of a clone (JSON, docs/PROTOCOL.md §9.10): both shows, their contexts,
-- the issuer's DLEQ proof of Ā = x·A' for each, the traced J. NULL for a copied code, for a clone
-- whose first show predates this migration, and for one the issuer could not prove.
ALTER TABLE violations ADD COLUMN evidence TEXT;
