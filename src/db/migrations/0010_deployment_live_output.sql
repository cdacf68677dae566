-- A running step's output as the agent sends it while the step runs (deployevent
-- `output` batches, applied once each): one row per batch, numbered by the step execution
-- (`exec`, counted from 1 per run) and the line number of its first line. `omitted`: the
-- lines the agent left out just before this batch (past the first lines of a step, only
-- the newest of each batch are sent). The final capped output of a finished step stays in
-- deployment_logs (kind 'output') as before; the follow page shows these while it runs.
CREATE TABLE deployment_live_output (
  id          INTEGER PRIMARY KEY,
  target_id   INTEGER NOT NULL REFERENCES deployment_targets (id) ON DELETE CASCADE,
  run_id      TEXT NOT NULL,
  exec        INTEGER NOT NULL,
  step        INTEGER NOT NULL,
  first_line  INTEGER NOT NULL,
  line_count  INTEGER NOT NULL,
  omitted     INTEGER NOT NULL DEFAULT 0,
  capped      INTEGER NOT NULL DEFAULT 0 CHECK (capped IN (0, 1)),
  at          INTEGER NOT NULL,
  text        TEXT NOT NULL
) STRICT;
CREATE INDEX deployment_live_output_target ON deployment_live_output (target_id, run_id, exec, id);
