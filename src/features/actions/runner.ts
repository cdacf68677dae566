/**
 * @module actions/runner
 * Runs a quick action on many machines (SPEC C12, X4): one `action_runs` row, one
 * `action_results` row per machine. Machines that are offline, banned or of another OS are
 * settled at once with the reason; the others are sent `runscript` over the agent channel,
 * at most `perRelay` at a time for each relay (the appliance is relay "local" until relay
 * mode exists). Each result is written as it arrives and `onResult` is told, so pages
 * update live. The whole run is one history entry (module "quickaction").
 */
import type { Database } from "bun:sqlite";
import type { Clock } from "../../clock.ts";
import { Invalid } from "../../errors.ts";
import type { AgentChannel } from "../../protocol/channel.ts";
import { request } from "../../protocol/envelope.ts";
import type { Viewer } from "../entities/service.ts";
import type { Recorder } from "../history/service.ts";
import type { MachinesService } from "../machines/service.ts";
import { INTERPRETERS_BY_OS, type Interpreter, type Os, type QuickActionRow } from "./quick.ts";

export const OUTPUT_CAP = 32_000;
export type ResultStatus = "queued" | "running" | "done" | "failed" | "timeout" | "offline" | "refused";

export interface RunRow {
  id: number;
  quick_action_id: number | null;
  name: string;
  os: string;
  interpreter: string;
  script: string;
  timeout_seconds: number;
  user_id: number | null;
  user_login: string;
  source_ip: string;
  created_at: number;
  finished_at: number | null;
}

export interface ResultRow {
  run_id: number;
  machine_id: number;
  hostname: string;
  status: ResultStatus;
  exit_code: number | null;
  output: string;
  truncated: number;
  duration_ms: number | null;
  error: string;
  started_at: number | null;
  finished_at: number | null;
}

export interface RunSpec {
  quickActionId: number | null;
  name: string;
  os: Os;
  interpreter: Interpreter;
  script: string;
  timeoutSeconds: number;
}

/** A counting semaphore per relay. */
class Limiter {
  #active = 0;
  #waiting: (() => void)[] = [];
  constructor(readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.limit) await new Promise<void>((r) => this.#waiting.push(r));
    this.#active++;
    try {
      return await fn();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}

export function createRunner(deps: { db: Database; clock: Clock; channel: AgentChannel; machines: MachinesService; recorder: Recorder; perRelay?: number; onResult?(row: ResultRow): void; onRunFinished?(run: RunRow): void }) {
  const { db, clock, channel, machines, recorder } = deps;
  const limiters = new Map<string, Limiter>();
  const limiterOf = (relay: string) => {
    let l = limiters.get(relay);
    if (!l) limiters.set(relay, (l = new Limiter(deps.perRelay ?? 200)));
    return l;
  };
  const running = new Map<number, Promise<void>>();
  const insertResult = db.query(`INSERT INTO action_results (run_id, machine_id, hostname, status, error, finished_at) VALUES ($run, $machine, $hostname, $status, $error, $finished)`);
  const updateResult = db.query(`UPDATE action_results SET status = $status, exit_code = $exit, output = $output, truncated = $truncated, duration_ms = $duration,
    error = $error, started_at = COALESCE(started_at, $started), finished_at = $finished WHERE run_id = $run AND machine_id = $machine RETURNING *`);
  const markRunning = db.query(`UPDATE action_results SET status = 'running', started_at = $now WHERE run_id = $run AND machine_id = $machine RETURNING *`);

  const settle = (runId: number, machineId: number, r: { status: ResultStatus; exitCode?: number | null; output?: string; truncated?: boolean; durationMs?: number | null; error?: string; started?: number }) => {
    const row = updateResult.get({
      run: runId, machine: machineId, status: r.status, exit: r.exitCode ?? null, output: (r.output ?? "").slice(0, OUTPUT_CAP), truncated: r.truncated ? 1 : 0,
      duration: r.durationMs ?? null, error: (r.error ?? "").slice(0, 500), started: r.started ?? null, finished: clock.now(),
    }) as ResultRow | null;
    if (row) deps.onResult?.(row);
  };

  async function runOne(runId: number, spec: RunSpec, m: { id: number; jid: string; relay: string }): Promise<void> {
    await limiterOf(m.relay).run(async () => {
      if (!channel.isOnline(m.jid)) return settle(runId, m.id, { status: "offline", error: "the machine went offline before its turn" });
      const started = clock.now();
      const row = markRunning.get({ run: runId, machine: m.id, now: started }) as ResultRow | null;
      if (row) deps.onResult?.(row);
      try {
        const answer = await channel.request(m.jid, request("runscript", { interpreter: spec.interpreter, script: spec.script, os: spec.os, timeoutSeconds: spec.timeoutSeconds, maxOutputBytes: OUTPUT_CAP }), spec.timeoutSeconds * 1000 + 20_000);
        if (answer.ret !== 0) {
          const why = String(answer.data.detail ?? answer.data.error ?? `error ${answer.ret}`);
          return settle(runId, m.id, { status: /is for|not available/.test(why) ? "refused" : "failed", error: why, started });
        }
        const d = answer.data as { exitCode: number | null; output: string; truncated: boolean; timedOut: boolean; durationMs: number };
        settle(runId, m.id, { status: d.timedOut ? "timeout" : d.exitCode === 0 ? "done" : "failed", exitCode: d.exitCode, output: d.output, truncated: d.truncated, durationMs: d.durationMs, started });
      } catch (e) {
        settle(runId, m.id, { status: "failed", error: `no answer from the agent (${(e as Error).message.slice(0, 200)})`, started });
      }
    });
  }

  return {
    /**
     * Starts `spec` on `machineIds` (those the viewer may see) and answers the run's id at
     * once; results come in as agents answer. This is what "run on a group" calls with the
     * group's machine ids.
     */
    start(viewer: Viewer, spec: RunSpec, machineIds: number[], ip: string): number {
      const ids = [...new Set(machineIds.filter((id) => Number.isSafeInteger(id) && id > 0))];
      if (!ids.length) throw new Invalid({ machines: "qa.error.noMachines" }, "qa.error.noMachines");
      if (ids.length > 20_000) throw new Invalid({ machines: "qa.error.tooManyMachines" }, "qa.error.tooManyMachines");
      if (!INTERPRETERS_BY_OS[spec.os]?.includes(spec.interpreter)) throw new Invalid({ interpreter: "qa.error.interpreterOs" });
      const targets = ids.map((id) => machines.get(viewer, id)); // NotFound for a machine out of the viewer's entities
      const now = clock.now();
      const todo: { id: number; jid: string; relay: string }[] = [];
      const runId = db.transaction(() => {
        const run = db
          .query(`INSERT INTO action_runs (quick_action_id, name, os, interpreter, script, timeout_seconds, user_id, user_login, source_ip, created_at)
                  VALUES ($qa, $name, $os, $interpreter, $script, $timeout, $uid, $login, $ip, $now) RETURNING id`)
          .get({ qa: spec.quickActionId, name: spec.name, os: spec.os, interpreter: spec.interpreter, script: spec.script, timeout: spec.timeoutSeconds, uid: viewer.id, login: viewer.login, ip, now }) as { id: number };
        for (const m of targets) {
          let status: ResultStatus = "queued";
          let error = "";
          if (m.os && m.os !== spec.os) [status, error] = ["refused", `wrong OS: this action is for ${spec.os}, ${m.hostname} runs ${m.os}`];
          else if (m.banned === 1) [status, error] = ["refused", "the machine is banned"];
          else if (!m.jid || !channel.isOnline(m.jid)) [status, error] = ["offline", "the machine is offline"];
          else todo.push({ id: m.id, jid: m.jid, relay: m.relay_id });
          insertResult.run({ run: run.id, machine: m.id, hostname: m.hostname, status, error, finished: status === "queued" ? null : now });
        }
        return run.id;
      })();
      recorder.record({
        module: "quickaction", action: "qa.history.run", params: { name: spec.name, count: targets.length }, criterion: "quickaction",
        userId: viewer.id, userLogin: viewer.login, sourceIp: ip,
        target: targets.length === 1 ? { type: "machine", id: targets[0]!.id, name: targets[0]!.hostname } : { type: "actionrun", id: runId, name: spec.name },
      });
      const done = Promise.all(todo.map((m) => runOne(runId, spec, m))).then(() => {
        const run = db.query("UPDATE action_runs SET finished_at = ? WHERE id = ? RETURNING *").get(clock.now(), runId) as RunRow;
        running.delete(runId);
        deps.onRunFinished?.(run);
      });
      running.set(runId, done);
      if (!todo.length) void done;
      return runId;
    },
    /** Runs a saved quick action. */
    startQuickAction(viewer: Viewer, qa: QuickActionRow, machineIds: number[], ip: string): number {
      return this.start(viewer, { quickActionId: qa.id, name: qa.name, os: qa.os, interpreter: qa.interpreter, script: qa.script, timeoutSeconds: qa.timeout_seconds }, machineIds, ip);
    },
    /** Resolves once every machine of the run has answered (tests, benchmarks). */
    async settled(runId: number): Promise<void> {
      await running.get(runId);
    },
    run(runId: number): RunRow | null {
      return db.query("SELECT * FROM action_runs WHERE id = ?").get(runId) as RunRow | null;
    },
    results(runId: number): ResultRow[] {
      return db.query("SELECT * FROM action_results WHERE run_id = ? ORDER BY hostname COLLATE NOCASE, machine_id").all(runId) as ResultRow[];
    },
    result(runId: number, machineId: number): ResultRow | null {
      return db.query("SELECT * FROM action_results WHERE run_id = ? AND machine_id = ?").get(runId, machineId) as ResultRow | null;
    },
    /** The latest runs with their counts, newest first (the quick action logs). */
    recent(limit = 50, before?: number): (RunRow & { total: number; ok: number; failed: number; pending: number })[] {
      return db.query(`SELECT r.*, COUNT(x.machine_id) AS total, SUM(x.status = 'done') AS ok, SUM(x.status IN ('failed','timeout','offline','refused')) AS failed,
                       SUM(x.status IN ('queued','running')) AS pending
                       FROM action_runs r LEFT JOIN action_results x ON x.run_id = r.id WHERE ($before IS NULL OR r.id < $before)
                       GROUP BY r.id ORDER BY r.id DESC LIMIT $limit`).all({ before: before ?? null, limit }) as never;
    },
  };
}

export type Runner = ReturnType<typeof createRunner>;
