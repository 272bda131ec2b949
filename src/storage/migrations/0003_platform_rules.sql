-- The code platform's rules beyond 0002 (码平台; DESIGN §2 flows 2–7, 10–11; docs/OPERATIONS.md
-- "Code platform rules"). Times are Unix milliseconds, money integer fen.

-- The record that replaced this one under the SAME accountid (a normal-mode recharge); NULL for
-- the head of its accountid's chain. The head holds the accountid's live balance: it is the active
-- record, or — with no active record — the closed one or the one a strong-mode recharge moved
-- away from. Deductions and refills act on the head; a superseded record keeps the balance it
-- had when it was copied forward, for the record only.
ALTER TABLE anonymous_wallet_accounts ADD COLUMN superseded_by TEXT;
CREATE INDEX anonymous_wallet_accounts_head ON anonymous_wallet_accounts (accountid, superseded_by);

-- The wallet transaction a settled ride wrote (rides joined with their wallet transactions).
ALTER TABLE rides ADD COLUMN txn_id TEXT;

-- Rides a terminal uploaded with a good MAC that the platform still refused (a payload that does
-- not verify, a code the platform never issued, an impossible fare). Kept so the upload is
-- acknowledged exactly once by (terminal, counter) and is not re-sent forever; no money moves.
CREATE TABLE rejected_rides (
  terminal    TEXT NOT NULL,
  counter     BIGINT NOT NULL,
  merchant    TEXT NOT NULL,
  payload     BYTEA NOT NULL,
  amount      BIGINT NOT NULL,
  scanned_at  BIGINT NOT NULL,
  received_at BIGINT NOT NULL,
  reason      TEXT NOT NULL,                -- malformed, unknown_key, bad_signature, …
  PRIMARY KEY (terminal, counter)
);

-- Wallet operations that move money or state (recharge, refund, close), by the SM3 of the
-- rider's show request: a retried request (lost reply) gets the first outcome again instead of
-- being performed twice. `pending` while a payment channel is being called.
CREATE TABLE platform_requests (
  request_hash BYTEA PRIMARY KEY,
  op           TEXT NOT NULL,               -- recharge, refund, close
  state        TEXT NOT NULL,               -- pending, done
  result       TEXT NOT NULL DEFAULT '',    -- the outcome, JSON (a result or an error)
  created_at   BIGINT NOT NULL,
  updated_at   BIGINT NOT NULL
);

-- A refund is deducted first, then paid out; a payout the channel refuses is reversed.
ALTER TABLE refunds ADD COLUMN state TEXT NOT NULL DEFAULT 'paid';  -- pending, paid, reversed
ALTER TABLE refunds ADD COLUMN payout_ref TEXT NOT NULL DEFAULT '';
ALTER TABLE refunds ADD COLUMN txn_id TEXT NOT NULL DEFAULT '';

CREATE INDEX code_requests_accountid ON code_requests (accountid, expires_at);
CREATE INDEX purse_refund_record_due ON purse_refund_record (state, due_at);
CREATE INDEX purse_refund_record_new ON purse_refund_record (accountid_new);
