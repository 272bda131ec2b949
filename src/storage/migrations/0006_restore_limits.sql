-- Limits on wallet-restore key proofs (钱包恢复; DESIGN §3.6 rule 6 "backups are no oracle",
-- src/app/app_backend.h). Wrong proofs are counted per phone number and per client address, for
-- phones with and without a backup alike, so neither the answers nor the locks tell who has one.
-- Kept in the database so that several server processes count together. Times are Unix ms.

-- One row per phone or client address with wrong proofs on record. Neither is stored in clear:
-- `subject` is HMAC-SM3 under the personal-data key of the kind and the value (a phone number, an
-- IPv4 address or an IPv6 /64). A phone's row goes when a right proof is presented.
CREATE TABLE restore_limits (
  subject      BYTEA PRIMARY KEY,
  kind         TEXT NOT NULL,         -- phone or address
  failures     BIGINT NOT NULL,       -- phone: wrong proofs since the last right one;
                                      -- address: wrong proofs in the current window
  window_start BIGINT NOT NULL,       -- phone: the first of those failures; address: the window's start
  locked_until BIGINT NOT NULL,       -- every proof is refused (429) until then; 0 when never locked
  updated_at   BIGINT NOT NULL        -- the last failure
);
CREATE INDEX restore_limits_locked ON restore_limits (locked_until);
