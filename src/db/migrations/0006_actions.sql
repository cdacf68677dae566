-- Quick actions (SPEC C12, X4), Wake-on-LAN (C8) and remote shell sessions (X5).

-- A custom quick action: a command or script for one OS, run by an interpreter.
CREATE TABLE quick_actions (
  id              INTEGER PRIMARY KEY,
  name            TEXT NOT NULL COLLATE NOCASE UNIQUE,
  os              TEXT NOT NULL CHECK (os IN ('linux', 'windows', 'darwin')),
  interpreter     TEXT NOT NULL CHECK (interpreter IN ('shell', 'powershell', 'cmd', 'python')),
  script          TEXT NOT NULL,
  description     TEXT NOT NULL DEFAULT '',
  timeout_seconds INTEGER NOT NULL DEFAULT 300 CHECK (timeout_seconds BETWEEN 1 AND 86400),
  created_by      TEXT NOT NULL DEFAULT '',
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;

-- One launch of a quick action (or a built-in action) on one or many machines.
CREATE TABLE action_runs (
  id              INTEGER PRIMARY KEY,
  quick_action_id INTEGER REFERENCES quick_actions (id) ON DELETE SET NULL,
  name            TEXT NOT NULL,
  os              TEXT NOT NULL,
  interpreter     TEXT NOT NULL,
  script          TEXT NOT NULL,
  timeout_seconds INTEGER NOT NULL,
  user_id         INTEGER,
  user_login      TEXT NOT NULL DEFAULT '',
  source_ip       TEXT NOT NULL DEFAULT '',
  created_at      INTEGER NOT NULL,
  finished_at     INTEGER
) STRICT;
CREATE INDEX action_runs_created ON action_runs (created_at DESC);

-- Each machine's outcome of a run.
CREATE TABLE action_results (
  run_id      INTEGER NOT NULL REFERENCES action_runs (id) ON DELETE CASCADE,
  machine_id  INTEGER NOT NULL,
  hostname    TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'timeout', 'offline', 'refused')),
  exit_code   INTEGER,
  output      TEXT NOT NULL DEFAULT '',
  truncated   INTEGER NOT NULL DEFAULT 0 CHECK (truncated IN (0, 1)),
  duration_ms INTEGER,
  error       TEXT NOT NULL DEFAULT '',
  started_at  INTEGER,
  finished_at INTEGER,
  PRIMARY KEY (run_id, machine_id)
) STRICT;

-- Every magic packet set the appliance sent (directly or through an agent on the subnet).
CREATE TABLE wakes (
  id         INTEGER PRIMARY KEY,
  machine_id INTEGER REFERENCES machines (id) ON DELETE SET NULL,
  mac        TEXT NOT NULL,
  broadcast  TEXT NOT NULL DEFAULT '',
  sent_at    INTEGER NOT NULL,
  via        TEXT NOT NULL,
  user_login TEXT NOT NULL DEFAULT '',
  error      TEXT NOT NULL DEFAULT '',
  woke_at    INTEGER
) STRICT;
CREATE INDEX wakes_mac_sent ON wakes (mac, sent_at DESC);
CREATE INDEX wakes_machine_sent ON wakes (machine_id, sent_at DESC);

-- Remote shell sessions: who, when, which machine; the transcript when asked for.
CREATE TABLE shell_sessions (
  id         INTEGER PRIMARY KEY,
  machine_id INTEGER REFERENCES machines (id) ON DELETE SET NULL,
  hostname   TEXT NOT NULL,
  user_id    INTEGER,
  user_login TEXT NOT NULL,
  source_ip  TEXT NOT NULL DEFAULT '',
  started_at INTEGER NOT NULL,
  ended_at   INTEGER,
  end_reason TEXT NOT NULL DEFAULT '',
  bytes_in   INTEGER NOT NULL DEFAULT 0,
  bytes_out  INTEGER NOT NULL DEFAULT 0,
  transcript TEXT
) STRICT;
