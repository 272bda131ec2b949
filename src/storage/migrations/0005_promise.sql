-- What must hold against a malicious operator, the network and a colluding rider (DESIGN §3.6;
-- docs/PROTOCOL.md "The request ledger" and "One chain per rider"). Times are Unix milliseconds.

-- The request ledger (rule 1): every wallet operation — recharge, code, history, refund, close —
-- is recorded under the SM3 of its show request, with the SM3 of the whole request (`digest`),
-- its final outcome (a result or a refusal, JSON) and the issue response of its show. The
-- identical request again is answered from here, before any business rule and before the
-- nonce's expiry is checked; the same show under other fields is refused and changes nothing.
ALTER TABLE platform_requests ADD COLUMN digest BYTEA;
ALTER TABLE platform_requests ADD COLUMN issue_response BYTEA;

-- A wallet answers only to its credential secret (rule 3): the pseudonym P_B = sk·G_B the show
-- that created wallet B proved; every later show acting on B must prove the same one. NULL for a
-- wallet created before this migration (it takes the first pseudonym shown for it).
ALTER TABLE anonymous_wallet_accounts ADD COLUMN pseudonym BYTEA;

-- Signed issuer key sets (rule 4): every set of issuer keys in force, signed by the operator's SM2
-- root key, append-only. `body` is the exact JSON text that was signed.
CREATE TABLE issuer_keysets (
  sequence     BIGINT PRIMARY KEY,
  body         TEXT NOT NULL,
  signature    BYTEA NOT NULL,
  published_at BIGINT NOT NULL
);

-- One credential chain per rider (rule 2): the open request a user's J was registered with and
-- the issue response it got, so the identical request again gets the identical answer.
ALTER TABLE userid_records ADD COLUMN open_request_hash BYTEA;
ALTER TABLE userid_records ADD COLUMN issue_response BYTEA;

-- Identities retired by an audited re-open (a phone lost without a backup, or a re-open after a
-- close). A retired J keeps its user id, so a clone of the old chain is still traced.
CREATE TABLE retired_identities (
  j           BYTEA PRIMARY KEY,
  user_id     TEXT NOT NULL,
  opened_at   BIGINT NOT NULL,
  retired_at  BIGINT NOT NULL,
  retired_by  TEXT NOT NULL,               -- the security officer (console account or "admin-token")
  reason      TEXT NOT NULL
);
CREATE INDEX retired_identities_user ON retired_identities (user_id);
