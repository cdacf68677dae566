-- 0009: deployments (SPEC P4–P6, A1–A3). Every state is a column, never inferred from log
-- text: a deployment's own status, and per target machine its state, the step it is on,
-- and why it failed. The plan (packages in order, dependencies first, with their steps
-- and files) is frozen at launch so a later edit of a package never changes a running
-- deployment. Agent events carry a sequence number per run: applied once, acknowledged
-- always, so a resent event never counts twice.

CREATE TABLE deployments (
  id               INTEGER PRIMARY KEY,
  kind             TEXT NOT NULL DEFAULT 'deploy' CHECK (kind IN ('deploy', 'convergence')),
  title            TEXT NOT NULL,
  package_ref      TEXT NOT NULL,
  package_name     TEXT NOT NULL DEFAULT '',
  package_version  TEXT NOT NULL DEFAULT '',
  section          TEXT NOT NULL CHECK (section IN ('install', 'update', 'uninstall', 'launch')),
  plan             TEXT NOT NULL,
  plan_sha256      TEXT NOT NULL,
  transfer         TEXT NOT NULL DEFAULT 'pull' CHECK (transfer IN ('pull', 'push')),
  bandwidth_kbps   INTEGER NOT NULL DEFAULT 0,
  priority         TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('high', 'normal')),
  target_type      TEXT NOT NULL CHECK (target_type IN ('machines', 'group')),
  target_id        INTEGER,
  target_label     TEXT NOT NULL DEFAULT '',
  start_at         INTEGER NOT NULL,
  deadline_at      INTEGER NOT NULL,
  status           TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'running', 'done', 'stopped', 'expired')),
  convergence_id   INTEGER,
  relay_id         TEXT NOT NULL DEFAULT 'local',
  created_by       INTEGER,
  created_by_login TEXT NOT NULL DEFAULT '',
  relaunch_of      INTEGER,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  finished_at      INTEGER
) STRICT;
CREATE INDEX deployments_status ON deployments (status, start_at);
CREATE INDEX deployments_created ON deployments (created_at, id);
CREATE INDEX deployments_user ON deployments (created_by, created_at);

CREATE TABLE deployment_targets (
  id             INTEGER PRIMARY KEY,
  deployment_id  INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  machine_id     INTEGER REFERENCES machines (id) ON DELETE SET NULL,
  hostname       TEXT NOT NULL DEFAULT '',
  state          TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'waking', 'waiting', 'transferring', 'running', 'succeeded', 'failed', 'stopped', 'expired')),
  -- Why it failed or stopped (a code the pages translate), and the agent's own words.
  reason         TEXT CHECK (reason IS NULL OR reason IN ('offline', 'download', 'checksum', 'permission', 'step', 'vanished', 'agent', 'refused', 'stopped', 'expired', 'rule')),
  detail         TEXT NOT NULL DEFAULT '',
  step           INTEGER,
  step_label     TEXT NOT NULL DEFAULT '',
  exit_code      INTEGER,
  -- The agent's run: one id per attempt, the idempotence key of every message about it.
  run_id         TEXT NOT NULL,
  attempt        INTEGER NOT NULL DEFAULT 1,
  last_seq       INTEGER NOT NULL DEFAULT 0,
  wake_tries     INTEGER NOT NULL DEFAULT 0,
  last_wake_at   INTEGER,
  sent_at        INTEGER,
  send_count     INTEGER NOT NULL DEFAULT 0,
  acked_at       INTEGER,
  bytes_done     INTEGER NOT NULL DEFAULT 0,
  bytes_total    INTEGER NOT NULL DEFAULT 0,
  started_at     INTEGER,
  finished_at    INTEGER,
  updated_at     INTEGER NOT NULL,
  UNIQUE (deployment_id, machine_id),
  UNIQUE (run_id)
) STRICT;
CREATE INDEX deployment_targets_state ON deployment_targets (state, deployment_id);
CREATE INDEX deployment_targets_machine ON deployment_targets (machine_id, state);

CREATE TABLE deployment_logs (
  id             INTEGER PRIMARY KEY,
  deployment_id  INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  target_id      INTEGER REFERENCES deployment_targets (id) ON DELETE CASCADE,
  at             INTEGER NOT NULL,
  kind           TEXT NOT NULL CHECK (kind IN ('server', 'state', 'step', 'output', 'download')),
  step           INTEGER,
  exit_code      INTEGER,
  text           TEXT NOT NULL
) STRICT;
CREATE INDEX deployment_logs_target ON deployment_logs (target_id, id);

-- Deployment rules (P4): the first enabled rule, in order, whose scope (OS, group) matches a
-- machine applies to it: dispatch only inside its time window, at most max_parallel at once.
CREATE TABLE deployment_rules (
  id             INTEGER PRIMARY KEY,
  position       INTEGER NOT NULL,
  name           TEXT NOT NULL,
  description    TEXT NOT NULL DEFAULT '',
  enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  os             TEXT NOT NULL DEFAULT '' CHECK (os IN ('', 'linux', 'windows', 'darwin')),
  group_id       INTEGER,
  window_start   INTEGER CHECK (window_start IS NULL OR window_start BETWEEN 0 AND 1439),
  window_end     INTEGER CHECK (window_end IS NULL OR window_end BETWEEN 0 AND 1439),
  max_parallel   INTEGER CHECK (max_parallel IS NULL OR max_parallel >= 1),
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX deployment_rules_position ON deployment_rules (position);

-- Convergence (P6): a package bound to a dynamic group, installed on entering machines.
CREATE TABLE convergences (
  id                 INTEGER PRIMARY KEY,
  name               TEXT NOT NULL,
  group_id           INTEGER NOT NULL,
  group_label        TEXT NOT NULL DEFAULT '',
  package_ref        TEXT NOT NULL,
  package_name       TEXT NOT NULL DEFAULT '',
  uninstall_on_leave INTEGER NOT NULL DEFAULT 0 CHECK (uninstall_on_leave IN (0, 1)),
  enabled            INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  created_by         INTEGER,
  created_by_login   TEXT NOT NULL DEFAULT '',
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL
) STRICT;
