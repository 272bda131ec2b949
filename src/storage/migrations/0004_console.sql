-- The admin console (后管页面; DESIGN §1, §4; docs/OPERATIONS.md "Admin accounts, roles and the
-- audit log"): the hash-chained audit log, administrator accounts, their sessions and failed
-- logins. Times are Unix milliseconds.

-- 0002 declared an audit_log that nothing ever wrote (it is empty everywhere); it is replaced by
-- the chained form with a target column.
DROP TABLE audit_log;

-- The administrators' audit log: append-only, each entry hashed with its predecessor,
-- hash = SM3(prev_hash ‖ encoding of seq, at, actor, action, target, details)
-- (src/console/audit_log.h). seq runs 1, 2, 3, … without gaps; the first prev_hash is 32 zero
-- bytes. details is JSON and never holds personal data or secrets.
CREATE TABLE audit_log (
  seq       BIGINT PRIMARY KEY,
  at        BIGINT NOT NULL,
  actor     TEXT NOT NULL,               -- "admin-token", an account's username, or "-"
  action    TEXT NOT NULL,               -- e.g. whitelist.add, login.failed, identity.decrypt
  target    TEXT NOT NULL,               -- what it acted on (a user id, a terminal, …) or ""
  details   TEXT NOT NULL,               -- a JSON object
  prev_hash BYTEA NOT NULL,
  hash      BYTEA NOT NULL
);

-- Console accounts. Passwords only as libsodium argon2id strings ($argon2id$v=19$…).
CREATE TABLE admin_accounts (
  username      TEXT PRIMARY KEY,
  role          TEXT NOT NULL,           -- operator, auditor, security_officer
  password_hash TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  disabled      TEXT NOT NULL DEFAULT '0'  -- 1: may not log in; its sessions stop working
);

-- Console sessions. The session id (32 random bytes) lives only in the browser's cookie; the
-- server keeps its SM3 hash. A session ends 8 hours after its last use, or at logout.
CREATE TABLE admin_sessions (
  id_hash      BYTEA PRIMARY KEY,
  username     TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL
);
CREATE INDEX admin_sessions_username ON admin_sessions (username);

-- Failed logins, for rate limiting: by the SM3 of the username tried, so a password typed into
-- the username field is never stored.
CREATE TABLE admin_login_failures (
  username_hash BYTEA NOT NULL,
  at            BIGINT NOT NULL
);
CREATE INDEX admin_login_failures_user ON admin_login_failures (username_hash, at);
