-- The code platform, app backend and POS front (码平台, APP 后端, POS 前置; seed 000 §3, DESIGN §4).
-- Times are Unix milliseconds, money integer fen, ids are TEXT made by the application.
--
-- PRIVACY RULE (DESIGN §4): no table links a user id to an anonymous wallet. The seed's opening
-- record (anonymous_code_user_relationship) would, through card_no/open_id holding the wallet's
-- accountid: here card_no is the rider's ORDINARY cloud-card number and open_id the SM3 (hex) of
-- it — the seed's MD5 of the accountid replaced — never an anonymous accountid. The only rows that join a user
-- to a wallet are written by tracing a cheater (violations, anonymous_wallet_accounts.user_id)
-- or by a refund the rider asked for (refunds).

-- App users (personal data SM4-encrypted under the configured key; id_lookup = HMAC-SM3 of the
-- ID number under that key, so a refund can find the user without decrypting everyone).
CREATE TABLE app_users (
  user_id      TEXT PRIMARY KEY,
  app_token_hash BYTEA NOT NULL UNIQUE,   -- SM3 of the app token; the token itself is not kept
  pii          BYTEA NOT NULL,             -- Sm4Aead(name, id_number, phone, card_no)
  id_lookup    BYTEA NOT NULL,
  created_at   BIGINT NOT NULL
);
CREATE INDEX app_users_id_lookup ON app_users (id_lookup);

-- 白名单: who sees the anonymous code. `all_users` is one settings row.
CREATE TABLE whitelist (
  user_id  TEXT PRIMARY KEY,
  added_at BIGINT NOT NULL
);
CREATE TABLE settings (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- 匿名码开通信息表 (anonymous_code_user_relationship), seed §3.4.
CREATE TABLE anonymous_code_user_relationship (
  bind_id     TEXT PRIMARY KEY,
  chnl_id     TEXT NOT NULL,               -- channel, e.g. 000001 the city app
  open_id     TEXT NOT NULL,               -- SM3 (hex, 32 chars) of card_no — see the privacy rule
  card_no     TEXT NOT NULL,               -- the rider's ordinary cloud-card number
  card_type   TEXT NOT NULL DEFAULT 'N',   -- code type
  biz_id      TEXT NOT NULL,               -- app platform number
  user_id     TEXT NOT NULL UNIQUE,        -- the app user (identified side only)
  create_time BIGINT NOT NULL,
  modi_time   BIGINT NOT NULL,
  state       TEXT NOT NULL DEFAULT '0'    -- 0 normal, 1 closed
);

-- 用户匿名钱包账户表 (ANONYMOUS_WALLET_ACCOUNTS), seed §3.1: one row per wallet record B. A normal
-- recharge opens a new record under the same accountid and deactivates the old one.
CREATE TABLE anonymous_wallet_accounts (
  b                     TEXT PRIMARY KEY,
  total_recharge_amount BIGINT NOT NULL DEFAULT 0,
  total_consume_amount  BIGINT NOT NULL DEFAULT 0,
  balance               BIGINT NOT NULL DEFAULT 0,   -- may go negative (offline rides)
  accountid             TEXT NOT NULL,
  creation_date         BIGINT NOT NULL,
  is_locked             TEXT NOT NULL DEFAULT '0',   -- 1: locked after a violation
  is_deactivated        TEXT NOT NULL DEFAULT '0',   -- 1: superseded by a later recharge, or closed
  user_id               TEXT,                        -- NULL; written only by tracing a cheater
  wallet_public_key     BYTEA NOT NULL,              -- SM2, 65 bytes; B = Base32(SM3(it))[..15]
  previous_b            TEXT,                        -- B1
  strong                TEXT NOT NULL DEFAULT '0'
);
CREATE INDEX anonymous_wallet_accounts_accountid ON anonymous_wallet_accounts (accountid);

-- 钱包交易记录表 (Wallet_Transactions), seed §3.3.
CREATE TABLE wallet_transactions (
  txn_id           TEXT PRIMARY KEY,
  paychannel       TEXT NOT NULL DEFAULT '',  -- 020001 UnionPay, 010002 Alipay, 010001 WeChat
  b                TEXT NOT NULL,
  pay_no           TEXT NOT NULL DEFAULT '',  -- the payment order number of a recharge
  accountid        TEXT NOT NULL,             -- for a refill: the wallet credited
  transaction_date BIGINT NOT NULL,
  amount           BIGINT NOT NULL,
  transaction_type TEXT NOT NULL,             -- 01 recharge, 02 ride, 03 refill, 04 refund, 05 close
  account_type     TEXT NOT NULL DEFAULT '01',-- 01 anonymous code
  order_id         TEXT NOT NULL DEFAULT '',  -- for a refill: the old accountid
  state            TEXT NOT NULL DEFAULT '00'
);
CREATE INDEX wallet_transactions_accountid ON wallet_transactions (accountid, transaction_date);

-- Payment orders with the channel (the bundled channel is a simulator).
CREATE TABLE payment_orders (
  order_id   TEXT PRIMARY KEY,
  channel    TEXT NOT NULL,
  amount     BIGINT NOT NULL,
  state      TEXT NOT NULL,                 -- created, paid, failed
  created_at BIGINT NOT NULL
);

-- Code requests (请码): one unique sequence per request.
CREATE TABLE code_requests (
  sequence   TEXT PRIMARY KEY,              -- nm + 14 digits
  b          TEXT NOT NULL,
  accountid  TEXT NOT NULL,
  issued_at  BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_count BIGINT NOT NULL DEFAULT 0      -- > 1 is a copy risk
);

-- Platform signing keys (QR codes), public part; the private key is a file in the data dir.
CREATE TABLE platform_keys (
  kid         BYTEA PRIMARY KEY,
  public_key  BYTEA NOT NULL,
  valid_from  BIGINT NOT NULL,
  valid_until BIGINT NOT NULL
);

-- POS terminals and their anonymous-code merchants (bizid), registered by an administrator.
CREATE TABLE terminals (
  terminal     TEXT PRIMARY KEY,
  merchant     TEXT NOT NULL,
  key_sealed   BYTEA NOT NULL,              -- the terminal's MAC key, Sm4Aead-sealed
  created_at   BIGINT NOT NULL,
  last_seen_at BIGINT
);

-- Rides uploaded by POS terminals, settled exactly once by (terminal, counter).
CREATE TABLE rides (
  terminal    TEXT NOT NULL,
  counter     BIGINT NOT NULL,
  merchant    TEXT NOT NULL,
  sequence    TEXT NOT NULL,
  accountid   TEXT NOT NULL,
  b           TEXT NOT NULL,                -- the wallet record charged
  amount      BIGINT NOT NULL,
  scanned_at  BIGINT NOT NULL,
  settled_at  BIGINT NOT NULL,
  copy_risk   TEXT NOT NULL DEFAULT '0',    -- 1: the code was used before (复制风险)
  PRIMARY KEY (terminal, counter)
);
CREATE INDEX rides_accountid ON rides (accountid, scanned_at);

-- 钱包余额返充登记表 (purse_Refund_record), seed §3.5: strong-mode old → new accountid.
CREATE TABLE purse_refund_record (
  id               TEXT PRIMARY KEY,
  register_date    BIGINT NOT NULL,
  accountid_old    TEXT NOT NULL UNIQUE,
  accountid_new    TEXT NOT NULL,
  due_at           BIGINT NOT NULL,          -- register_date + the configured delay (7 days)
  transaction_date BIGINT,                   -- when the job moved the balance
  amount           BIGINT,
  modify_date      BIGINT NOT NULL,
  state            TEXT NOT NULL DEFAULT '00' -- 00 registered, 01 moved
);

-- Refunds the rider asked for (the one deliberate user ↔ wallet link).
CREATE TABLE refunds (
  refund_id    TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL,
  b            TEXT NOT NULL,
  accountid    TEXT NOT NULL,
  amount       BIGINT NOT NULL,
  bank_account_sealed BYTEA NOT NULL,
  created_at   BIGINT NOT NULL
);

-- The administrators' audit log: append-only, each row hashed with its predecessor (SM3).
CREATE TABLE audit_log (
  seq        BIGINT PRIMARY KEY,
  at         BIGINT NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  detail     TEXT NOT NULL,
  prev_hash  BYTEA NOT NULL,
  hash       BYTEA NOT NULL
);
