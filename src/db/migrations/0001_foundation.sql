-- 0001: the foundation: settings, users and their sessions, sign-in throttling,
-- the history, durable jobs and per-user dashboard layouts.
-- Times are integers: milliseconds since the Unix epoch, UTC.

CREATE TABLE settings (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
  id                   INTEGER PRIMARY KEY,
  login                TEXT NOT NULL UNIQUE COLLATE NOCASE,
  email                TEXT COLLATE NOCASE,
  password_hash        TEXT NOT NULL,
  first_name           TEXT NOT NULL DEFAULT '',
  last_name            TEXT NOT NULL DEFAULT '',
  phone                TEXT NOT NULL DEFAULT '',
  mobile               TEXT NOT NULL DEFAULT '',
  lang                 TEXT NOT NULL DEFAULT 'fr' CHECK (lang IN ('fr', 'en')),
  is_super             INTEGER NOT NULL DEFAULT 0 CHECK (is_super IN (0, 1)),
  must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
  disabled             INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX users_email ON users (email) WHERE email IS NOT NULL AND email <> '';

-- Only a hash of the session token is stored: a leaked database does not leak sessions.
CREATE TABLE sessions (
  id_hash      TEXT PRIMARY KEY,
  user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  csrf_token   TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  source_ip    TEXT NOT NULL DEFAULT '',
  user_agent   TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed sign-ins, kept for throttling per account name and per source address.
CREATE TABLE login_failures (
  id        INTEGER PRIMARY KEY,
  login     TEXT NOT NULL COLLATE NOCASE,
  source_ip TEXT NOT NULL,
  at        INTEGER NOT NULL
) STRICT;
CREATE INDEX login_failures_login ON login_failures (login, at);
CREATE INDEX login_failures_ip ON login_failures (source_ip, at);

-- The history (SPEC X6, L): one row per recorded action.
CREATE TABLE history (
  id          INTEGER PRIMARY KEY,
  at          INTEGER NOT NULL,
  user_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
  user_login  TEXT NOT NULL DEFAULT '',
  who         TEXT NOT NULL DEFAULT '',
  module      TEXT NOT NULL,
  criterion   TEXT NOT NULL DEFAULT 'none',
  action      TEXT NOT NULL,
  params      TEXT NOT NULL DEFAULT '{}',
  text        TEXT NOT NULL,
  source_ip   TEXT NOT NULL DEFAULT '',
  target_type TEXT NOT NULL DEFAULT '',
  target_id   TEXT NOT NULL DEFAULT '',
  target_name TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX history_at ON history (at, id);
CREATE INDEX history_module_at ON history (module, at, id);
CREATE INDEX history_criterion_at ON history (criterion, at, id);

-- Durable jobs (src/scheduler). A recurring job has a schedule and a unique name.
CREATE TABLE jobs (
  id           INTEGER PRIMARY KEY,
  name         TEXT UNIQUE,
  kind         TEXT NOT NULL,
  payload      TEXT NOT NULL DEFAULT '{}',
  schedule     TEXT,
  run_at       INTEGER NOT NULL,
  status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'running', 'done', 'failed', 'cancelled')),
  attempts     INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 5,
  last_error   TEXT,
  started_at   INTEGER,
  finished_at  INTEGER,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX jobs_due ON jobs (status, run_at);

-- One run of a job: what happened each time, for the scheduler page and for
-- "resumed without running twice" (a run left 'running' by a crash is visible).
CREATE TABLE job_runs (
  id          INTEGER PRIMARY KEY,
  job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  slot        INTEGER NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
  started_at  INTEGER NOT NULL,
  finished_at INTEGER,
  error       TEXT,
  UNIQUE (job_id, slot, started_at)
) STRICT;
CREATE INDEX job_runs_job ON job_runs (job_id, started_at);

CREATE TABLE dashboard_layouts (
  user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  layout     TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
