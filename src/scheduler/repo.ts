/**
 * @module scheduler/repo
 * The scheduler's SQL over `jobs` and `job_runs`, as prepared statements named for
 * what the scheduler means by them. Claiming is one UPDATE ... RETURNING so that two
 * schedulers sharing a database can never both take the same job.
 */
import type { Database } from "bun:sqlite";

export type JobStatus = "pending" | "running" | "done" | "failed" | "cancelled";
export type RunStatus = "running" | "done" | "failed" | "interrupted";

export interface JobRow {
  id: number;
  name: string | null;
  kind: string;
  payload: string;
  schedule: string | null;
  run_at: number;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  started_at: number | null;
  finished_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface JobRunRow {
  id: number;
  job_id: number;
  slot: number;
  status: RunStatus;
  started_at: number;
  finished_at: number | null;
  error: string | null;
}

export interface JobListRow extends JobRow {
  run_slot: number | null;
  run_status: RunStatus | null;
  run_started_at: number | null;
  run_finished_at: number | null;
  run_error: string | null;
}

export type JobRepo = ReturnType<typeof jobRepo>;

type Bindings = Record<string, string | number | null>;

export function jobRepo(db: Database) {
  const insertJob = db.query<{ id: number }, Bindings>(
    `INSERT INTO jobs (name, kind, payload, schedule, run_at, max_attempts, created_at, updated_at)
     VALUES ($name, $kind, $payload, $schedule, $runAt, $maxAttempts, $now, $now)
     ON CONFLICT (name) DO NOTHING RETURNING id`,
  );
  const releaseFinishedOneOffName = db.query(
    `UPDATE jobs SET name = NULL, updated_at = $now
     WHERE name = $name AND schedule IS NULL AND status IN ('done', 'failed', 'cancelled')`,
  );
  const findJob = db.query<JobRow, Bindings>("SELECT * FROM jobs WHERE id = $id");
  const findJobByName = db.query<JobRow, Bindings>("SELECT * FROM jobs WHERE name = $name");
  // A recurring job that failed for want of a handler gets another chance once its
  // feature declares it again at startup.
  const redefineRecurringJob = db.query(
    `UPDATE jobs SET kind = $kind, payload = $payload, updated_at = $now,
       status = CASE status WHEN 'failed' THEN 'pending' ELSE status END
     WHERE id = $id`,
  );
  // A running job keeps its slot and attempt count; its next slot comes from the new text.
  const changeSchedule = db.query(
    `UPDATE jobs SET schedule = $schedule, updated_at = $now,
       run_at = CASE status WHEN 'running' THEN run_at ELSE $runAt END,
       attempts = CASE status WHEN 'running' THEN attempts ELSE 0 END
     WHERE id = $id`,
  );
  const claimNextDueJob = db.query<JobRow, Bindings>(
    `UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = $now, updated_at = $now
     WHERE id = (SELECT id FROM jobs WHERE status = 'pending' AND run_at <= $now ORDER BY run_at, id LIMIT 1)
       AND status = 'pending'
     RETURNING *`,
  );
  const settleRunningJob = db.query(
    `UPDATE jobs SET status = $status, run_at = $runAt, attempts = $attempts, last_error = $lastError,
       finished_at = $now, updated_at = $now
     WHERE id = $id AND status = 'running'`,
  );
  const findRunningJobs = db.query<JobRow, []>("SELECT * FROM jobs WHERE status = 'running' ORDER BY id");
  const cancelJob = db.query(
    `UPDATE jobs SET status = 'cancelled', updated_at = $now
     WHERE id = $id AND status IN ('pending', 'running')`,
  );
  // A pending job keeps its attempts (a retry brought forward stays a retry of its slot);
  // a finished one starts over.
  const makeJobDueNow = db.query(
    `UPDATE jobs SET run_at = $now, updated_at = $now, status = 'pending',
       attempts = CASE status WHEN 'pending' THEN attempts ELSE 0 END
     WHERE id = $id AND status <> 'running'`,
  );
  const earliestPendingRunAt = db.query<{ at: number | null }, []>(
    "SELECT min(run_at) AS at FROM jobs WHERE status = 'pending'",
  );
  const listJobs = db.query<JobListRow, []>(
    `SELECT j.*, r.slot AS run_slot, r.status AS run_status, r.started_at AS run_started_at,
       r.finished_at AS run_finished_at, r.error AS run_error
     FROM jobs j
     LEFT JOIN job_runs r ON r.id = (SELECT max(id) FROM job_runs WHERE job_id = j.id)
     ORDER BY j.id`,
  );

  const insertRun = db.query<{ id: number }, Bindings>(
    `INSERT INTO job_runs (job_id, slot, status, started_at) VALUES ($jobId, $slot, 'running', $now)
     RETURNING id`,
  );
  const findLatestRun = db.query<JobRunRow, Bindings>(
    "SELECT * FROM job_runs WHERE job_id = $jobId ORDER BY id DESC LIMIT 1",
  );
  const findDoneRunForSlot = db.query<{ id: number }, Bindings>(
    "SELECT id FROM job_runs WHERE job_id = $jobId AND slot = $slot AND status = 'done' LIMIT 1",
  );
  const finishRun = db.query(
    "UPDATE job_runs SET status = $status, finished_at = $now, error = $error WHERE id = $id",
  );
  const interruptRuns = db.query(
    `UPDATE job_runs SET status = 'interrupted', finished_at = $now, error = 'interrupted by a restart'
     WHERE job_id = $jobId AND status = 'running'`,
  );

  return {
    /** Runs `fn` in one write transaction, taken up front so concurrent writers queue. */
    transaction: <T>(fn: () => T): T => db.transaction(fn).immediate(),

    /** The new job's id, or null when `name` is already taken. */
    insertJob: (p: {
      name: string | null;
      kind: string;
      payload: string;
      schedule: string | null;
      runAt: number;
      maxAttempts: number;
      now: number;
    }) => insertJob.get(p)?.id ?? null,
    releaseFinishedOneOffName: (p: { name: string; now: number }) => void releaseFinishedOneOffName.run(p),
    findJob: (id: number) => findJob.get({ id }),
    findJobByName: (name: string) => findJobByName.get({ name }),
    redefineRecurringJob: (p: { id: number; kind: string; payload: string; now: number }) =>
      void redefineRecurringJob.run(p),
    changeSchedule: (p: { id: number; schedule: string; runAt: number; now: number }) => void changeSchedule.run(p),
    claimNextDueJob: (now: number) => claimNextDueJob.get({ now }),
    settleRunningJob: (p: {
      id: number;
      status: JobStatus;
      runAt: number;
      attempts: number;
      lastError: string | null;
      now: number;
    }) => void settleRunningJob.run(p),
    findRunningJobs: () => findRunningJobs.all(),
    cancelJob: (p: { id: number; now: number }) => cancelJob.run(p).changes > 0,
    makeJobDueNow: (p: { id: number; now: number }) => makeJobDueNow.run(p).changes > 0,
    earliestPendingRunAt: () => earliestPendingRunAt.get()?.at ?? null,
    listJobs: () => listJobs.all(),

    insertRun: (p: { jobId: number; slot: number; now: number }) => insertRun.get(p)!.id,
    findLatestRun: (jobId: number) => findLatestRun.get({ jobId }),
    hasDoneRunForSlot: (p: { jobId: number; slot: number }) => findDoneRunForSlot.get(p) !== null,
    finishRun: (p: { id: number; status: RunStatus; error: string | null; now: number }) => void finishRun.run(p),
    interruptRuns: (p: { jobId: number; now: number }) => void interruptRuns.run(p),
  };
}
