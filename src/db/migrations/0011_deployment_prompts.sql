-- 0011: the user-facing steps of deployments (notifications, questions, deferral).
-- The server is the source of truth for postponements: per target machine, how many the
-- user made, the limit and interval of the package's defer step, and when the machine's
-- run resumes. A target postponed by its user stays in state 'queued' with a row here whose
-- resume_at is in the future: the engine does not send it before then (a scheduler job at
-- resume_at and the sweep wake it up, so a restart in between changes nothing).
CREATE TABLE deployment_deferrals (
  target_id      INTEGER PRIMARY KEY REFERENCES deployment_targets (id) ON DELETE CASCADE,
  deployment_id  INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  used           INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
  max_deferrals  INTEGER NOT NULL CHECK (max_deferrals >= 1),
  delay_minutes  INTEGER NOT NULL CHECK (delay_minutes >= 1),
  -- Set while the machine waits for its user's postponement to end; NULL once resumed.
  resume_at      INTEGER,
  deferred_at    INTEGER,
  -- 1 when the last postponement was shortened by the deadline: the next run does not ask.
  capped         INTEGER NOT NULL DEFAULT 0 CHECK (capped IN (0, 1)),
  updated_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX deployment_deferrals_deployment ON deployment_deferrals (deployment_id, resume_at);

-- What was shown or asked to the users of each machine, and what came of it.
CREATE TABLE deployment_prompts (
  id             INTEGER PRIMARY KEY,
  deployment_id  INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  target_id      INTEGER NOT NULL REFERENCES deployment_targets (id) ON DELETE CASCADE,
  run_id         TEXT NOT NULL,
  at             INTEGER NOT NULL,
  step           INTEGER NOT NULL,
  kind           TEXT NOT NULL CHECK (kind IN ('kiosk_notify', 'user_notify', 'ask_user', 'defer')),
  asked          TEXT NOT NULL,
  outcome        TEXT NOT NULL CHECK (outcome IN ('answered', 'timeout', 'dismissed', 'no_session', 'no_tool', 'error', 'shown', 'limit', 'deadline')),
  answer         TEXT CHECK (answer IS NULL OR answer IN ('yes', 'no')),
  by_whom        TEXT NOT NULL DEFAULT '',
  applied        TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX deployment_prompts_target ON deployment_prompts (target_id, id);
