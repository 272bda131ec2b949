-- The privacy backend's tables (隐私保护后台; seed 000 §3.2, §3.3, DESIGN §3.3, §4).
-- Times are Unix milliseconds (BIGINT), bytes are BYTEA (BLOB on SQLite), money is integer fen.
--
-- PRIVACY RULE (DESIGN §4): no table links a user id to an anonymous wallet, except rows written
-- by tracing a cheater (violations) or by a refund the rider asked for. userid_records links a
-- user id to J only: J is a commitment that identifies nobody's wallet unless the rider's secret
-- is revealed by a double show.

-- 用户 ID 对应记录表 (USERID_RECORDS): user id ↔ identity commitment J = sk·G_J, written at open.
CREATE TABLE userid_records (
  user_id       TEXT PRIMARY KEY,
  j             BYTEA NOT NULL UNIQUE,    -- the encoded point J
  creation_date BIGINT NOT NULL
);

-- Single-use show nonces (the double-spend challenge's source), 60 s lifetime.
CREATE TABLE show_nonces (
  nonce      BYTEA PRIMARY KEY,
  expires_at BIGINT NOT NULL,
  used_at    BIGINT                       -- NULL until consumed
);
CREATE INDEX show_nonces_expires ON show_nonces (expires_at);

-- 认证交易记表 (certification_TRANSACTIONS): the SN registry. The serial is the PRIMARY KEY, so a
-- second show of one credential is stopped by the key, not by a read-then-write. The row also
-- keeps what a retried request needs (nonce, tag, the issue response) so a lost reply never
-- strands a rider: the same (sn, nonce, R) gets the stored response again.
CREATE TABLE certification_transactions (
  sn                 BYTEA PRIMARY KEY,   -- the serial s revealed at the show
  b                  TEXT,                -- anonymous wallet account named in the context (24 chars)
  certification_type TEXT NOT NULL,       -- 01 recharge, 02 request code, 03 query, 04 refund, 05 close
  accountid          TEXT,
  usage_date         BIGINT NOT NULL,
  r                  BYTEA NOT NULL,      -- double-spend tag R = sk·C + u
  is_used            TEXT NOT NULL DEFAULT '1',
  c                  BYTEA NOT NULL,      -- double-spend challenge C
  state              TEXT NOT NULL DEFAULT '00',  -- 00 normal, 01 repeated use (a clone was seen)
  sequence           TEXT NOT NULL DEFAULT '0000000000000000',
  kid                BYTEA NOT NULL,
  nonce              BYTEA NOT NULL,
  request_hash       BYTEA NOT NULL,      -- SM3 of the show request: a replay must match it
  issue_response     BYTEA NOT NULL       -- the re-issued credential, returned again on a replay
);

-- Violations found by tracing (违规追踪). The one place a user id meets a wallet, and only for a
-- rider who cloned one.
CREATE TABLE violations (
  id          TEXT PRIMARY KEY,
  kind        TEXT NOT NULL,              -- clone (an SN shown twice) or copy (a code used twice)
  user_id     TEXT,                       -- the traced rider; NULL when J matched no registered user
  sn          BYTEA,
  b           TEXT,
  accountid   TEXT,
  detected_at BIGINT NOT NULL,
  detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX violations_user ON violations (user_id);

-- Wallet backups (钱包备份): an encrypted blob under the phone number, released once to a request
-- that proves knowledge of the passphrase-derived key, consumed when the client confirms.
CREATE TABLE wallet_backups (
  phone        TEXT PRIMARY KEY,
  blob         BYTEA NOT NULL,
  verifier     BYTEA NOT NULL,              -- proves knowledge of the passphrase-derived key
  created_at   BIGINT NOT NULL,
  released_at  BIGINT,
  consumed_at  BIGINT
);
