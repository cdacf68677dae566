/**
 * @module scheduler
 * Durable jobs: one-off work to do once, soon or at a given time, and recurring work
 * by name and schedule. State lives in `jobs` and `job_runs`, so a restart resumes
 * where the last process stopped: a run cut short by a crash is marked interrupted
 * and retried for the same slot, and a slot with a finished run is never run again.
 * Time comes only from the injected clock, so tests drive it by hand.
 */
import type { Database } from "bun:sqlite";
import type { Clock } from "../clock.ts";
import { jobRepo, type JobRepo, type JobRow, type JobStatus, type RunStatus } from "./repo.ts";
import { checkTimeZone, nextRun, parseSchedule } from "./schedule.ts";

export { nextRun, parseSchedule } from "./schedule.ts";

export interface SchedulerLog {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  error(o: object, msg?: string): void;
}

/** `signal` aborts when the run times out or the job is cancelled, for handlers that can stop early. */
export interface JobContext {
  jobId: number;
  attempt: number;
  slot: number;
  signal: AbortSignal;
}

export type JobHandler = (payload: any, ctx: JobContext) => Promise<void> | void;

export interface JobSummary {
  id: number;
  name: string | null;
  kind: string;
  schedule: string | null;
  status: JobStatus;
  runAt: number;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  lastRun: RunSummary | null;
}

export interface RunSummary {
  slot: number;
  status: RunStatus;
  startedAt: number;
  finishedAt: number | null;
  error: string | null;
}

export interface EnqueueOptions {
  runAt?: number;
  maxAttempts?: number;
  name?: string;
}

const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_TIMEOUT_MS = 15 * 60_000;
// Other processes may add jobs without telling us; look at least this often.
const MAX_WAIT_MS = 60_000;
// After a database error, wait rather than spin on a job that cannot be claimed.
const ERROR_PAUSE_MS = 5_000;

/** 30 s, doubling per attempt, capped at an hour, plus up to 10% jitter so retries spread out. */
export function retryDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000 * 2 ** (attempt - 1), 3_600_000);
  return Math.round(base * (1 + 0.1 * random()));
}

interface Claim {
  job: JobRow;
  slot: number;
  runId: number;
}

export class Scheduler {
  readonly #repo: JobRepo;
  readonly #clock: Clock;
  readonly #log: SchedulerLog;
  readonly #timeZone: string;
  readonly #random: () => number;
  readonly #handlers = new Map<string, { handler: JobHandler; timeoutMs: number }>();
  readonly #running = new Map<number, { done: Promise<void>; abort: AbortController }>();
  #isStarted = false;
  #cancelTimer: (() => void) | undefined;

  constructor(deps: { db: Database; clock: Clock; log: SchedulerLog; timeZone?: string; random?: () => number }) {
    this.#repo = jobRepo(deps.db);
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#timeZone = deps.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    this.#random = deps.random ?? Math.random;
    checkTimeZone(this.#timeZone);
  }

  register(kind: string, handler: JobHandler, options: { timeoutMs?: number } = {}): void {
    if (this.#handlers.has(kind)) throw new Error(`a handler for job kind "${kind}" is already registered`);
    this.#handlers.set(kind, { handler, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  }

  /** Adds a one-off job. With a `name`, a pending or running job of that name is reused. */
  enqueue(kind: string, payload: unknown, options: EnqueueOptions = {}): number {
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
      throw new Error(`maxAttempts must be a positive integer, not ${maxAttempts}`);
    }
    const now = this.#clock.now();
    const runAt = options.runAt ?? now;
    if (!Number.isSafeInteger(runAt)) throw new Error(`runAt must be epoch milliseconds, not ${runAt}`);
    const name = options.name ?? null;
    const job = { name, kind, payload: encode(payload), schedule: null, runAt, maxAttempts, now };
    const id = this.#repo.transaction(() => {
      if (name !== null) this.#repo.releaseFinishedOneOffName({ name, now });
      const inserted = this.#repo.insertJob(job);
      if (inserted !== null || name === null) return inserted!;
      const existing = this.#repo.findJobByName(name)!;
      if (existing.schedule !== null) throw new Error(`job name "${name}" belongs to a recurring job`);
      return existing.id;
    });
    this.#arm();
    return id;
  }

  /** Declares a recurring job; safe to call at every start, it keeps the next run unless `schedule` changed. */
  schedule(name: string, kind: string, schedule: string, payload: unknown = {}): number {
    parseSchedule(schedule);
    const now = this.#clock.now();
    const firstRun = nextRun(schedule, now, this.#timeZone);
    const id = this.#repo.transaction(() => {
      const maxAttempts = DEFAULT_MAX_ATTEMPTS;
      const job = { name, kind, payload: encode(payload), schedule, runAt: firstRun, maxAttempts, now };
      const inserted = this.#repo.insertJob(job);
      if (inserted !== null) return inserted;
      const existing = this.#repo.findJobByName(name)!;
      if (existing.schedule === null) throw new Error(`job name "${name}" belongs to a one-off job`);
      this.#repo.redefineRecurringJob({ id: existing.id, kind, payload: job.payload, now });
      if (existing.schedule !== schedule) {
        this.#repo.changeSchedule({ id: existing.id, schedule, runAt: firstRun, now });
      }
      return existing.id;
    });
    this.#arm();
    return id;
  }

  /** Cancels a pending or running job; a handler running here sees its signal abort. */
  cancel(id: number): boolean {
    const isCancelled = this.#repo.cancelJob({ id, now: this.#clock.now() });
    this.#running.get(id)?.abort.abort(new Error("job cancelled"));
    this.#arm();
    return isCancelled;
  }

  /** Makes a job due now; a finished, failed or cancelled job starts over. False if it is running. */
  runNow(id: number): boolean {
    const isDue = this.#repo.makeJobDueNow({ id, now: this.#clock.now() });
    this.#arm();
    return isDue;
  }

  list(): JobSummary[] {
    return this.#repo.listJobs().map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      schedule: r.schedule,
      status: r.status,
      runAt: r.run_at,
      attempts: r.attempts,
      maxAttempts: r.max_attempts,
      lastError: r.last_error,
      lastRun:
        r.run_status === null
          ? null
          : {
              slot: r.run_slot!,
              status: r.run_status,
              startedAt: r.run_started_at!,
              finishedAt: r.run_finished_at,
              error: r.run_error,
            },
    }));
  }

  /** Recovers runs cut short by a crash, then runs what is due and keeps a timer armed. */
  start(): void {
    if (this.#isStarted) return;
    this.#recover();
    this.#isStarted = true;
    this.#arm();
  }

  /** Stops claiming new work and waits for running handlers to finish. */
  async stop(): Promise<void> {
    this.#isStarted = false;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    while (this.#running.size > 0) await Promise.all([...this.#running.values()].map((r) => r.done));
  }

  /** Runs every job due now; resolves when those runs have finished. */
  async tick(): Promise<void> {
    const runs: Promise<void>[] = [];
    let pause = 0;
    try {
      for (let claim = this.#claimNext(); claim; claim = this.#claimNext()) runs.push(this.#track(claim));
    } catch (err) {
      this.#log.error({ err }, "scheduler could not claim due jobs");
      pause = ERROR_PAUSE_MS;
    }
    this.#arm(pause);
    await Promise.all(runs);
  }

  #claimNext(): Claim | null {
    const now = this.#clock.now();
    return this.#repo.transaction(() => {
      for (let job = this.#repo.claimNextDueJob(now); job; job = this.#repo.claimNextDueJob(now)) {
        // A retry belongs to the slot of the attempt before it; a first attempt to its run_at.
        const slot = job.attempts > 1 ? (this.#repo.findLatestRun(job.id)?.slot ?? job.run_at) : job.run_at;
        if (this.#repo.hasDoneRunForSlot({ jobId: job.id, slot })) {
          this.#log.warn({ jobId: job.id, kind: job.kind, slot }, "job slot already done; not running it again");
          this.#settle(job, slot, null, now);
          continue;
        }
        return { job, slot, runId: this.#repo.insertRun({ jobId: job.id, slot, now }) };
      }
      return null;
    });
  }

  #track(claim: Claim): Promise<void> {
    const abort = new AbortController();
    const done = this.#run(claim, abort).finally(() => {
      this.#running.delete(claim.job.id);
      this.#arm();
    });
    this.#running.set(claim.job.id, { done, abort });
    return done;
  }

  async #run({ job, slot, runId }: Claim, abort: AbortController): Promise<void> {
    const ctx = { jobId: job.id, attempt: job.attempts, slot, signal: abort.signal };
    const entry = this.#handlers.get(job.kind);
    let error: string | null = `no handler registered for job kind "${job.kind}"`;
    if (entry) {
      this.#log.info({ jobId: job.id, kind: job.kind, slot, attempt: job.attempts }, "job started");
      error = await this.#invoke(entry, job.payload, ctx, abort);
    }
    const now = this.#clock.now();
    try {
      this.#repo.transaction(() => {
        this.#repo.finishRun({ id: runId, status: error === null ? "done" : "failed", error, now });
        const current = this.#repo.findJob(job.id);
        if (current?.status !== "running") return; // cancelled while it ran
        // Retrying cannot make a handler appear, so a missing one fails the job at once.
        this.#settle(current, slot, error, now, { isFatal: !entry });
      });
    } catch (err) {
      // The run stays 'running' in the database; the next start treats it as interrupted.
      this.#log.error({ err, jobId: job.id, kind: job.kind }, "could not record the outcome of a job run");
    }
  }

  async #invoke(
    entry: { handler: JobHandler; timeoutMs: number },
    payload: string,
    ctx: JobContext,
    abort: AbortController,
  ): Promise<string | null> {
    let cancelTimer = () => {};
    const timeout = new Promise<never>((_, reject) => {
      if (!Number.isFinite(entry.timeoutMs)) return;
      cancelTimer = this.#clock.setTimer(entry.timeoutMs, () => {
        const err = new Error(`timed out after ${entry.timeoutMs} ms`);
        abort.abort(err);
        reject(err);
      });
    });
    try {
      await Promise.race([(async () => entry.handler(JSON.parse(payload), ctx))(), timeout]);
      return null;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    } finally {
      cancelTimer();
    }
  }

  /**
   * Records what a run's outcome means for its (still running) job: done, next slot,
   * retry (at `retryAt`, else after a backoff) or failed.
   */
  #settle(
    job: JobRow,
    slot: number,
    error: string | null,
    now: number,
    how: { retryAt?: number; isFatal?: boolean } = {},
  ): void {
    const update = { id: job.id, runAt: job.run_at, attempts: job.attempts, lastError: error, now };
    const log = { jobId: job.id, kind: job.kind, slot, attempt: job.attempts, error };
    const moveOn = () => ({
      ...update,
      status: "pending" as const,
      runAt: this.#nextSlot(job, slot, now),
      attempts: 0,
    });
    if (error === null) {
      this.#log.info(log, "job done");
      return this.#repo.settleRunningJob(job.schedule === null ? { ...update, status: "done" } : moveOn());
    }
    if (how.isFatal) {
      this.#log.error(log, error);
      return this.#repo.settleRunningJob({ ...update, status: "failed" });
    }
    if (job.attempts < job.max_attempts) {
      const runAt = how.retryAt ?? now + retryDelay(job.attempts, this.#random);
      this.#log.warn({ ...log, retryAt: runAt }, "job failed; will retry");
      return this.#repo.settleRunningJob({ ...update, status: "pending", runAt });
    }
    if (job.schedule === null) {
      this.#log.error(log, "job failed on its last attempt");
      return this.#repo.settleRunningJob({ ...update, status: "failed" });
    }
    this.#log.error(log, "recurring job failed on its last attempt; moving on to its next run");
    this.#repo.settleRunningJob(moveOn());
  }

  /** The slot after `slot`; after downtime spanning several slots, the first one still ahead. */
  #nextSlot(job: JobRow, slot: number, now: number): number {
    const schedule = job.schedule!;
    const next = nextRun(schedule, slot, this.#timeZone);
    return next > now ? next : nextRun(schedule, now, this.#timeZone);
  }

  /** Marks runs left 'running' by a dead process as interrupted and makes their jobs due again. */
  #recover(): void {
    const now = this.#clock.now();
    this.#repo.transaction(() => {
      for (const job of this.#repo.findRunningJobs()) {
        const slot = this.#repo.findLatestRun(job.id)?.slot ?? job.run_at;
        this.#repo.interruptRuns({ jobId: job.id, now });
        if (this.#repo.hasDoneRunForSlot({ jobId: job.id, slot })) {
          this.#settle(job, slot, null, now);
          continue;
        }
        // The interrupted attempt counts, so a job that kills the process cannot loop forever.
        this.#settle(job, slot, "interrupted by a restart", now, { retryAt: job.run_at });
      }
    });
  }

  #arm(minDelay = 0): void {
    if (!this.#isStarted) return;
    this.#cancelTimer?.();
    let wait = MAX_WAIT_MS;
    try {
      const at = this.#repo.earliestPendingRunAt();
      if (at !== null) wait = Math.min(Math.max(at - this.#clock.now(), 0), MAX_WAIT_MS);
    } catch (err) {
      this.#log.error({ err }, "scheduler could not read its next due time");
    }
    this.#cancelTimer = this.#clock.setTimer(Math.max(wait, minDelay), () => {
      this.#cancelTimer = undefined;
      void this.tick();
    });
  }
}

function encode(payload: unknown): string {
  return payload === undefined ? "{}" : JSON.stringify(payload);
}
