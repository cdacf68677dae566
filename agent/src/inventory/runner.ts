/**
 * @module agent/inventory/runner
 * One inventory at a time, whoever asks: the schedule, the server's `inventory` request
 * (answered at once: accepted, or refused as "busy" while one runs), enrollment, and
 * `inventoryNow(reason)` for the rest of the agent (after a deployment), which never
 * refuses: asked while one runs, it runs once more afterwards, so that what the
 * deployment changed is seen. A run collects, then posts either the whole document or,
 * when its content hash matches the last accepted one and `force` is off,
 * `{ "unchanged": "<SHA-256 of the body the server stored>" }`; a 409 to that (the server
 * lost or replaced it) sends the whole document at once. Network failures are retried
 * with backoff (post.ts); outcomes and the next due time go to the state file.
 */
import { sleep } from "../backoff.ts";
import type { Logger } from "../log.ts";
import type { InventoryState, InventoryStore } from "../state.ts";
import type { InventoryDocument, Warn } from "./format.ts";
import { bodyHash, contentHash } from "./hash.ts";
import { DEFAULT_RETRY, postWithRetry, type PostOutcome, type RetryOptions } from "./post.ts";
import { dueTime, nextAfterFailure, nextAfterSuccess } from "./schedule.ts";

export type RunResult =
  | { status: "sent"; changes?: number }
  | { status: "unchanged" }
  | { status: "failed"; error: string }
  | { status: "refused"; error: string };

export interface RunnerDeps {
  collect(warn: Warn): Promise<InventoryDocument>;
  /** One POST of a JSON body (post.ts `postInventory` bound to the server). */
  send(json: string, signal: AbortSignal): Promise<PostOutcome>;
  store: InventoryStore;
  log: Logger;
  /** The schedule's interval; 0 switches scheduled inventories off. */
  intervalMs: number;
  retry?: Pick<RetryOptions, "attempts" | "backoff">;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Stops retries and the schedule (the agent is stopping). */
  signal?: AbortSignal;
}

/** The longest single wait of the schedule: a due time moved by another run is seen this soon. */
const MAX_NAP_MS = 15 * 60_000;

const describe = (o: PostOutcome) => (o.kind === "failed" ? o.message : o.kind === "accepted" ? "accepted" : `HTTP ${o.status}: ${o.message}`);

export class InventoryRunner {
  #current: Promise<RunResult> | null = null;
  #queued: { force: boolean; promise: Promise<RunResult> } | null = null;
  /** The due time last set, kept in memory too so that a state file we cannot write never makes the schedule spin. */
  #nextAt = 0;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #signal: AbortSignal;

  constructor(private readonly d: RunnerDeps) {
    this.#now = d.now ?? Date.now;
    this.#random = d.random ?? Math.random;
    this.#sleep = d.sleep ?? sleep;
    this.#signal = d.signal ?? new AbortController().signal;
  }

  get isBusy(): boolean {
    return this.#current !== null;
  }

  /** The server's request: accepted and started, or refused while one runs. */
  request(force = false): { accepted: boolean; reason?: string } {
    if (this.#current) return { accepted: false, reason: "busy" };
    void this.#start("server request", force);
    return { accepted: true };
  }

  /** Inventory now; while one runs, once more after it (one follow-up for any number of asks). */
  inventoryNow(reason: string, opts: { force?: boolean } = {}): Promise<RunResult> {
    const force = opts.force ?? false;
    if (!this.#current) return this.#start(reason, force);
    if (this.#queued) {
      this.#queued.force ||= force;
      return this.#queued.promise;
    }
    const queued = { force, promise: Promise.resolve<RunResult>({ status: "failed", error: "not run" }) };
    queued.promise = this.#current.then(() => {
      this.#queued = null;
      return this.#start(reason, queued.force);
    });
    this.#queued = queued;
    return queued.promise;
  }

  /** Waits for each due time and runs; returns when the signal aborts. */
  async runSchedule(): Promise<void> {
    const interval = this.d.intervalMs;
    if (interval <= 0) return;
    while (!this.#signal.aborted) {
      const st = await this.d.store.read().catch((): InventoryState => ({}));
      const stored = st.nextAt ? Date.parse(st.nextAt) : Number.NaN;
      const nextAt = Number.isFinite(stored) ? new Date(Math.max(stored, this.#nextAt)).toISOString() : this.#nextAt ? new Date(this.#nextAt).toISOString() : undefined;
      const due = dueTime(nextAt, this.#now(), interval, !!st.lastAt, this.#random);
      if (due.fresh) await this.#setNext(due.at);
      const wait = due.at - this.#now();
      if (wait > 0) {
        await this.#sleep(Math.min(wait, MAX_NAP_MS), this.#signal);
        continue;
      }
      await this.inventoryNow("schedule");
    }
  }

  #start(reason: string, force: boolean): Promise<RunResult> {
    const p: Promise<RunResult> = this.#run(reason, force)
      .catch((e: Error) => ({ status: "failed" as const, error: e.message }))
      .finally(() => {
        if (this.#current === p) this.#current = null;
      });
    this.#current = p;
    return p;
  }

  async #setNext(at: number): Promise<void> {
    this.#nextAt = at;
    if (this.d.intervalMs > 0) await this.d.store.update({ nextAt: new Date(at).toISOString() });
  }

  #post(json: string): Promise<PostOutcome> {
    const retry = this.d.retry ?? DEFAULT_RETRY;
    return postWithRetry(() => this.d.send(json, this.#signal), {
      ...retry,
      sleep: this.#sleep,
      signal: this.#signal,
      onRetry: (n, ms, message) => this.d.log.warn(`inventory: ${message}; try ${n + 1} of ${retry.attempts} in ${Math.round(ms / 1000)} s`),
    });
  }

  async #run(reason: string, force: boolean): Promise<RunResult> {
    const { log, store } = this.d;
    const started = this.#now();
    log.info("inventory started", { reason, ...(force ? { force } : {}) });
    const st = await store.read().catch((): InventoryState => ({}));
    let doc: InventoryDocument;
    try {
      doc = await this.d.collect((w) => log.warn(`inventory: ${w}`));
    } catch (e) {
      return this.#failed("failed", `collecting the inventory failed: ${(e as Error).message}`);
    }
    const hash = contentHash(doc);
    const json = JSON.stringify(doc);
    let whole = force || st.contentHash !== hash || !st.bodyHash;
    let outcome = await this.#post(whole ? json : JSON.stringify({ unchanged: st.bodyHash }));
    if (!whole && outcome.kind === "conflict") {
      log.info("the server does not hold the last inventory; sending it whole");
      whole = true;
      outcome = await this.#post(json);
    }
    if (outcome.kind !== "accepted") return this.#failed(outcome.kind === "failed" ? "failed" : "refused", describe(outcome));

    const at = new Date(this.#now()).toISOString();
    await this.#setNext(nextAfterSuccess(this.#now(), this.d.intervalMs, this.#random));
    await store.update({
      lastAt: at,
      contentHash: hash,
      ...(whole ? { bodyHash: bodyHash(json), lastFullAt: at } : {}),
      lastResult: whole ? `sent${outcome.changes === undefined ? "" : ` (${outcome.changes} changes)`}` : "unchanged",
      lastError: undefined,
      lastErrorAt: undefined,
    });
    log.info(whole ? "inventory sent" : "inventory unchanged", { reason, changes: outcome.changes, bytes: whole ? json.length : undefined, ms: this.#now() - started });
    return whole ? { status: "sent", changes: outcome.changes } : { status: "unchanged" };
  }

  async #failed(status: "failed" | "refused", error: string): Promise<RunResult> {
    if (this.#signal.aborted) {
      // Stopping cut the run short: the due time stays as it was, so the next start runs it.
      this.d.log.info("inventory interrupted: the agent is stopping");
      return { status: "failed", error: "interrupted: the agent is stopping" };
    }
    this.d.log[status === "refused" ? "error" : "warn"](`inventory not sent: ${error}`);
    await this.#setNext(nextAfterFailure(this.#now(), this.d.intervalMs, this.#random));
    await this.d.store.update({ lastError: error, lastErrorAt: new Date(this.#now()).toISOString() });
    return { status, error };
  }
}
