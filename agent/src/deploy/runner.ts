/**
 * @module agent/deploy/runner
 * The agent's side of deployments: each run (one `runId` from the server) is a state
 * machine persisted on disk under `<config>.deploy/runs/<runId>/run.json`, written
 * atomically before and after every step, so the agent can die at any point — a reboot
 * step does it on purpose — and carry on where it was when it starts again:
 *
 *   plan (fetch + SHA-256 check) → transfer (files, resumable) → steps → succeeded | failed | stopped
 *
 * A step the agent died in the middle of is not run a second time: it ends in error
 * ("interrupted") and the package's routing decides, except steps that are harmless to
 * repeat (./steps.ts RERUNNABLE). A reboot step saves the next step first, then restarts
 * the machine.
 *
 * Everything the run does becomes an event with a sequence number, kept in the run file's
 * outbox until the server acknowledges it (`deployevent` → `{ ack }`); events are sent in
 * order whenever a session is up, and again after a reconnection or a restart. A running
 * step's output goes out the same way while it runs (./live.ts batches it). A push run
 * (`transfer` push) gets its plan and files from the server over XMPP (./push.ts) into
 * the same files cache a pull fills; the steps do not see the difference.
 */
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { nextStepIndex, type Step } from "../../../src/features/packages/descriptor.ts";
import { writeAtomic } from "../../../src/fs/atomic.ts";
import type { ActionData, ActionResult } from "../../../src/protocol/actions.ts";
import { Plan } from "../../../src/protocol/deploy-plan.ts";
import type { Envelope } from "../../../src/protocol/envelope.ts";
import type { Logger } from "../log.ts";
import type { Desktop } from "../desktop/index.ts";
import { LiveOutput, type SetTimer } from "./live.ts";
import { RERUNNABLE, runStep, type StepResult } from "./steps.ts";
import { PushReceiver } from "./push.ts";
import type { DeferralGrant } from "./user-steps.ts";
import { fetchFile, getText, TransferError, type Remote } from "./transfer.ts";

type EventData = ActionData<"deployevent">;
type Outgoing = Omit<EventData, "seq" | "at">;

export interface RunFile {
  runId: string;
  deploymentId: number;
  planSha256: string;
  transfer: "pull" | "push";
  bandwidthKbps: number;
  deadline: number;
  phase: "plan" | "transfer" | "steps" | "done";
  result?: "succeeded" | "failed" | "stopped" | "deferred";
  pkg: number;
  step: number;
  /** The step at `step` was started and has not ended (a crash or reboot happened in it). */
  inStep: boolean;
  env: Record<string, string>;
  previous: { code?: number; result?: "success" | "error"; output?: string };
  seq: number;
  acked: number;
  /** Step executions started in this run (live output numbers its batches by it); absent in older run files. */
  execs?: number;
  outbox: EventData[];
  createdAt: number;
  /** What the server allows for defer steps (postponements used, whether one more is allowed). */
  deferral?: DeferralGrant;
}

export interface DeployDeps {
  /** Folder of this agent's deployments: `<config>.deploy`. */
  dir: string;
  remote: Remote;
  log: Logger;
  os: "windows" | "linux" | "macos";
  machineId: string;
  /** Restarts the machine (after the run file says where to resume). */
  reboot(delaySeconds: number): Promise<void> | void;
  /** Asks for an inventory after a package that changed the machine. */
  inventoryNow?(reason: string): void;
  now?(): number;
  /** For tests: wait steps sleep this fraction of their time. */
  timeScale?: number;
  /** The timer live output batches with (tests inject their own). */
  setTimer?: SetTimer;
  /** Shows notifications and questions to the logged-in users (agent/src/desktop). */
  desktop?: Desktop;
}

type Sender = (action: string, data: Record<string, unknown>) => Promise<Envelope>;

const TRANSFER_TRIES = 4;
/** What `deploy` answers: the server sends a push deployment only to an agent that lists it. */
const TRANSFERS = ["pull", "push"] as const;
const RUN_KEPT_MS = 7 * 86_400_000;

export class DeployManager {
  readonly #runs = new Map<string, { file: RunFile; abort: AbortController; done?: Promise<void> }>();
  #send: Sender | null = null;
  #flushing = false;
  #flushAgain = false;
  #now: () => number;

  /** Push runs' plan and files arrive here, over XMPP (./push.ts; `pushopen` / `pushdata` / `pushclose`). */
  readonly push: PushReceiver;

  constructor(private readonly deps: DeployDeps) {
    this.#now = deps.now ?? Date.now;
    this.push = new PushReceiver({
      filesDir: join(deps.dir, "files"),
      log: deps.log,
      refuses: (runId, sha, kind) => {
        const r = this.#runs.get(runId)?.file;
        if (!r) return `run ${runId} is unknown to this agent`;
        if (r.transfer !== "push") return `run ${runId} pulls its files over HTTPS`;
        if (r.phase === "done") return `run ${runId} is over (${r.result})`;
        if (r.phase === "steps") return `run ${runId} has its files already`;
        if (kind === "plan" && sha !== r.planSha256) return `${sha.slice(0, 12)}… is not the plan of run ${runId}`;
        return null;
      },
    });
  }

  #runDir = (runId: string) => join(this.deps.dir, "runs", runId.replace(/[^A-Za-z0-9-]/g, "_"));

  readonly #saving = new Map<string, Promise<void>>();

  /** Writes the run file; writes of one run go one after the other, each with the state as it is then. */
  #save(f: RunFile): Promise<void> {
    const write = async () => {
      await mkdir(this.#runDir(f.runId), { recursive: true });
      await writeAtomic(join(this.#runDir(f.runId), "run.json"), JSON.stringify(f), 0o600);
    };
    const next = (this.#saving.get(f.runId) ?? Promise.resolve()).then(write, write);
    this.#saving.set(f.runId, next);
    return next;
  }

  /** Reads every saved run; resumes those not finished, flushes the outboxes of all. */
  async start(): Promise<void> {
    const root = join(this.deps.dir, "runs");
    const names = await readdir(root).catch(() => [] as string[]);
    for (const name of names) {
      try {
        const f = JSON.parse(await readFile(join(root, name, "run.json"), "utf8")) as RunFile;
        if (!f.runId || this.#runs.has(f.runId)) continue;
        // Finished, reported and older than a week: nothing left to resume or resend.
        if (f.phase === "done" && f.outbox.length === 0 && this.#now() - f.createdAt > RUN_KEPT_MS) {
          await rm(join(root, name), { recursive: true, force: true });
          continue;
        }
        const entry = { file: f, abort: new AbortController() };
        this.#runs.set(f.runId, entry);
        if (f.phase !== "done") {
          this.deps.log.info(`resuming deployment run ${f.runId} (${f.phase}${f.phase === "steps" ? `, package ${f.pkg} step ${f.step}` : ""})`);
          this.#launch(entry);
        }
      } catch (e) {
        this.deps.log.warn(`unreadable deployment run ${name}: ${(e as Error).message}`);
      }
    }
    void this.flush();
  }

  /** The session went up (a sender) or down (null). */
  setSender(send: Sender | null): void {
    this.#send = send;
    if (send) void this.flush();
  }

  /** The server's `deploy`: a new run starts; a run already known answers where it stands. */
  async accept(d: ActionData<"deploy">): Promise<ActionResult<"deploy">> {
    const known = this.#runs.get(d.runId);
    if (known) return { accepted: true, state: known.file.result ?? known.file.phase, lastSeq: known.file.seq, transfers: [...TRANSFERS] };
    if (d.deadline && d.deadline < this.#now()) return { accepted: false, reason: "the deadline has passed" };
    const f: RunFile = {
      runId: d.runId, deploymentId: d.deploymentId, planSha256: d.planSha256, transfer: d.transfer, bandwidthKbps: d.bandwidthKbps, deadline: d.deadline,
      phase: "plan", pkg: 0, step: 0, inStep: false, env: {}, previous: {}, seq: 0, acked: 0, outbox: [], createdAt: this.#now(),
      ...(d.deferral ? { deferral: { used: d.deferral.used, allowed: d.deferral.allowed, ...(d.deferral.why ? { why: d.deferral.why } : {}) } } : {}),
    };
    await this.#save(f);
    const entry = { file: f, abort: new AbortController() };
    this.#runs.set(d.runId, entry);
    this.#launch(entry);
    return { accepted: true, state: "plan", lastSeq: 0, transfers: [...TRANSFERS] };
  }

  /** The server's `deploystop`. */
  stop(runId: string): { stopped: boolean; state?: string } {
    const r = this.#runs.get(runId);
    if (!r) return { stopped: false, state: "unknown" };
    if (r.file.phase === "done") return { stopped: false, state: r.file.result };
    r.abort.abort(new Error("stopped by the server"));
    return { stopped: true, state: "stopping" };
  }

  /** Waits for every run in progress (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.#runs.values()].map((r) => r.done));
  }

  /** Waits until no run is running, no flush is under way and every write has landed (tests). */
  async settled(): Promise<void> {
    for (let i = 0; i < 500; i++) {
      await this.idle();
      await Promise.all([...this.#saving.values()]);
      if (!this.#flushing) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Stops running steps (the agent is stopping); runs resume at the next start. */
  shutdown(): void {
    for (const r of this.#runs.values()) if (r.file.phase !== "done") r.abort.abort(new Error("agent stopping"));
  }

  #launch(entry: { file: RunFile; abort: AbortController; done?: Promise<void> }): void {
    entry.done = this.#drive(entry.file, entry.abort.signal).catch((e: Error) => this.deps.log.error(`deployment run ${entry.file.runId}: ${e.message}`));
  }

  async #emit(f: RunFile, ev: Outgoing): Promise<void> {
    f.seq += 1;
    f.outbox.push({ ...ev, seq: f.seq, at: this.#now() } as EventData);
    await this.#save(f);
    void this.flush();
  }

  /** Sends unacknowledged events, run by run, in order; stops at the first failure (retried later). */
  async flush(): Promise<void> {
    if (this.#flushing) {
      this.#flushAgain = true;
      return;
    }
    this.#flushing = true;
    try {
      do {
        this.#flushAgain = false;
        for (const r of this.#runs.values()) {
          const f = r.file;
          while (f.outbox.length && this.#send) {
            const ev = f.outbox[0]!;
            let answer: Envelope;
            try {
              answer = await this.#send("deployevent", { ...ev });
            } catch (e) {
              this.deps.log.debug(`deployment event not delivered yet: ${(e as Error).message}`);
              return;
            }
            if (answer.ret !== 0 || typeof answer.data.ack !== "number") {
              // The server cannot take this event (refused, unreadable): drop it rather than loop.
              this.deps.log.warn(`the server refused deployment event ${ev.seq} of ${f.runId}: ${JSON.stringify(answer.data).slice(0, 200)}`);
              f.outbox.shift();
            } else {
              const ack = answer.data.ack;
              f.acked = Math.max(f.acked, ack);
              f.outbox = f.outbox.filter((e) => e.seq > ack);
              if (ack < ev.seq) f.outbox = f.outbox.filter((e) => e.seq !== ev.seq);
              if (answer.data.stop === true && f.phase !== "done") r.abort.abort(new Error("stopped by the server"));
            }
            await this.#save(f);
          }
        }
      } while (this.#flushAgain);
    } finally {
      this.#flushing = false;
    }
  }

  /**
   * A step ended while no session is up: its live batches not sent yet are dropped (the
   * final record carries the first and last lines), so a long disconnection never piles
   * up output. The event being sent, if any (the outbox's first), is left alone.
   */
  #collapseLive(f: RunFile, exec: number): number {
    if (this.#send) return 0;
    const keep = f.outbox.filter((e, i) => i === 0 || e.output?.exec !== exec);
    const dropped = f.outbox.length - keep.length;
    f.outbox = keep;
    return dropped;
  }

  async #finish(f: RunFile, result: "succeeded" | "failed" | "stopped" | "deferred", ev: Omit<Outgoing, "runId" | "state">): Promise<void> {
    f.phase = "done";
    f.result = result;
    f.inStep = false;
    await this.#emit(f, { runId: f.runId, state: result, ...ev });
    this.deps.log.info(`deployment run ${f.runId} ${result}${ev.detail ? `: ${ev.detail}` : ""}`);
    await rm(join(this.#runDir(f.runId), "tmp"), { recursive: true, force: true });
    // The downloaded files are kept while another run is under way (it may share them).
    if (![...this.#runs.values()].some((r) => r.file.phase !== "done")) await rm(join(this.deps.dir, "files"), { recursive: true, force: true });
  }

  async #drive(f: RunFile, signal: AbortSignal): Promise<void> {
    const dir = this.#runDir(f.runId);
    const stopped = async () => {
      const why = String((signal.reason as Error)?.message ?? "stopped");
      if (why === "agent stopping") return true; // resumes at the next start
      await this.#finish(f, "stopped", { reason: "stopped", detail: why });
      return true;
    };
    // 1. The plan.
    let plan: Plan;
    const planPath = join(dir, "plan.json");
    try {
      let text = await readFile(planPath, "utf8").catch(() => "");
      if (!text) {
        // Push: the plan comes over XMPP like the files (named by its SHA-256).
        text = f.transfer === "push"
          ? await this.push.want(f.planSha256, signal).then(() => readFile(join(this.deps.dir, "files", f.planSha256), "utf8"))
          : await getText(this.deps.remote, `/api/v1/agents/deployments/${encodeURIComponent(f.runId)}/plan`, signal);
        const digest = new Bun.CryptoHasher("sha256").update(text).digest("hex");
        if (digest !== f.planSha256) throw new TransferError("checksum", `the plan's SHA-256 ${digest.slice(0, 12)}… is not the announced ${f.planSha256.slice(0, 12)}…`);
        await writeAtomic(planPath, text, 0o600);
      }
      const parsed = JSON.parse(text) as unknown;
      if (!Value.Check(Plan, parsed)) throw new TransferError("download", "the plan is not a valid deployment plan");
      plan = parsed;
    } catch (e) {
      if (signal.aborted) return void (await stopped());
      const reason = e instanceof TransferError ? e.reason : "agent";
      return this.#finish(f, "failed", { reason, detail: `plan: ${(e as Error).message}`.slice(0, 2000) });
    }

    // 2. The files (pull), resumable, checked.
    const filesDir = join(this.deps.dir, "files");
    if (f.phase === "plan" || f.phase === "transfer") {
      f.phase = "transfer";
      await this.#save(f);
      const all = plan.packages.flatMap((p) => p.files);
      const total = all.reduce((n, x) => n + x.size, 0);
      let done = 0;
      let lastReport = 0;
      await this.#emit(f, { runId: f.runId, state: "transferring", bytesDone: 0, bytesTotal: total, log: [{ kind: "download", text: `${all.length} file(s), ${total} bytes${f.bandwidthKbps ? `, limited to ${f.bandwidthKbps} kbit/s` : ""}` }] });
      if (f.transfer === "push") {
        // The server sends; this waits for each file to be there, checked, and reports progress.
        const have = new Map<string, number>();
        const unique = [...new Map(all.map((x) => [x.sha256, x])).values()];
        const pushTotal = unique.reduce((n, x) => n + x.size, 0);
        for (const file of unique) {
          try {
            await this.push.want(file.sha256, signal, (n) => {
              have.set(file.sha256, n);
              const now = this.#now();
              if (now - lastReport >= 2000) {
                lastReport = now;
                void this.#emit(f, { runId: f.runId, state: "transferring", bytesDone: [...have.values()].reduce((a, b) => a + b, 0), bytesTotal: pushTotal });
              }
            });
            have.set(file.sha256, file.size);
          } catch (e) {
            if (signal.aborted) return void (await stopped());
            const err = e instanceof TransferError ? e : new TransferError("download", (e as Error).message);
            const bytesDone = [...have.values()].reduce((a, b) => a + b, 0);
            return this.#finish(f, "failed", { reason: err.reason, detail: `${file.path}: ${err.message}`.slice(0, 2000), bytesDone, bytesTotal: pushTotal, log: [{ kind: "download", text: `push of ${file.path}: ${err.message}` }] });
          }
        }
      }
      for (const file of f.transfer === "push" ? [] : all) {
        let lastError: TransferError | null = null;
        const before = done;
        for (let attempt = 1; attempt <= TRANSFER_TRIES; attempt++) {
          done = before;
          try {
            await fetchFile(this.deps.remote, { sha256: file.sha256, size: file.size, dest: join(filesDir, file.sha256), kbps: f.bandwidthKbps }, signal, (n) => {
              done += n;
              const now = this.#now();
              if (now - lastReport >= 2000) {
                lastReport = now;
                void this.#emit(f, { runId: f.runId, state: "transferring", bytesDone: done, bytesTotal: total });
              }
            });
            lastError = null;
            break;
          } catch (e) {
            if (signal.aborted) return void (await stopped());
            lastError = e instanceof TransferError ? e : new TransferError("download", (e as Error).message);
            // A refusal will not change; wrong bytes are fetched once more, then reported.
            if (lastError.reason === "permission" || (lastError.reason === "checksum" && attempt >= 2)) break;
            this.deps.log.warn(`transfer of ${file.path}, try ${attempt}: ${lastError.message}`);
            if (attempt < TRANSFER_TRIES) await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** attempt, 15_000)));
          }
        }
        if (lastError) {
          return this.#finish(f, "failed", { reason: lastError.reason, detail: `${file.path}: ${lastError.message}`.slice(0, 2000), bytesDone: done, bytesTotal: total, log: [{ kind: "download", text: `${file.path}: ${lastError.message}` }] });
        }
      }
      // Lay the files out in each package folder.
      for (const [i, p] of plan.packages.entries()) {
        for (const file of p.files) {
          const dest = join(dir, `pkg-${i}`, file.path);
          await mkdir(join(dest, ".."), { recursive: true });
          await Bun.write(dest, Bun.file(join(filesDir, file.sha256)));
        }
      }
      f.phase = "steps";
      await this.#save(f);
      await this.#emit(f, { runId: f.runId, state: "running", bytesDone: total, bytesTotal: total, log: [{ kind: "download", text: `transfer complete${f.transfer === "push" ? " (pushed over XMPP)" : ""}: ${total} bytes, SHA-256 checked` }] });
    }

    // 3. The steps, package by package.
    while (f.phase === "steps") {
      const p = plan.packages[f.pkg];
      if (!p) return this.#finish(f, "succeeded", { detail: "" });
      const steps = p.steps as Step[];
      const step = steps[f.step];
      if (!step) return this.#finish(f, "failed", { reason: "step", detail: `${p.name}: the steps ran past the last one without END_SUCCESS` });
      if (signal.aborted) return void (await stopped());
      const stepNo = f.step;
      let result: StepResult;
      if (f.inStep && !RERUNNABLE.has(step.action)) {
        result = { ok: false, code: -1, notes: [`interrupted: the agent stopped during step ${step.id} (${step.action}); not run again`] };
      } else {
        if (f.deadline && this.#now() > f.deadline) return this.#finish(f, "failed", { reason: "expired", detail: `deadline passed before step ${step.id}` });
        f.inStep = true;
        f.execs = (f.execs ?? 0) + 1;
        const exec = f.execs;
        await this.#save(f);
        await this.#emit(f, { runId: f.runId, state: "running", step: stepNo, exec, stepLabel: `${p.name}: ${step.label ?? step.id} (${step.action})` });
        const pkgDir = join(dir, `pkg-${f.pkg}`);
        await mkdir(pkgDir, { recursive: true });
        // The output while it runs: batches become numbered events like the others.
        const live = new LiveOutput((b) => void this.#emit(f, { runId: f.runId, state: "running", step: stepNo, exec, output: { ...b, exec, step: stepNo } }), this.deps.setTimer);
        try {
          result = await runStep(step, {
            onOutput: (text, stream) => live.write(text, stream),
            os: this.deps.os, packageDir: pkgDir, tempDir: join(dir, "tmp"), env: f.env, signal, timeScale: this.deps.timeScale, desktop: this.deps.desktop, deferral: f.deferral,
            vars: {
              package_dir: pkgDir, temp_dir: join(dir, "tmp"), hostname: hostname(), os: this.deps.os, arch: process.arch, user: process.env.USER ?? process.env.USERNAME ?? "",
              package_name: p.name, package_version: p.version, deployment_id: f.deploymentId, machine_id: this.deps.machineId, step_id: step.id,
              previous_code: f.previous.code ?? "", previous_result: f.previous.result ?? "", previous_output: f.previous.output ?? "",
              deferrals_used: f.deferral?.used ?? 0, deferrals_left: step.action === "defer" ? Math.max(0, step.maxDeferrals - (f.deferral?.used ?? 0)) : "",
            },
          });
        } catch (e) {
          result = { ok: false, code: -1, notes: [`step ${step.id} could not run: ${(e as Error).message}`] };
        }
        live.end();
        const dropped = this.#collapseLive(f, exec);
        if (dropped) result.notes.push(`${dropped} live output batch(es) not delivered while disconnected: the output below keeps the first and last lines`);
        if (signal.aborted) return void (await stopped());
      }
      const log: NonNullable<EventData["log"]> = [];
      if (result.output) log.push({ kind: "output", text: result.output, step: stepNo, ...(result.code !== undefined ? { exitCode: result.code } : {}) });
      for (const n of result.notes) log.push({ kind: "step", text: `${step.id}: ${n}`.slice(0, 16_000), step: stepNo, ...(result.code !== undefined ? { exitCode: result.code } : {}) });
      if (result.env) f.env = { ...f.env, ...result.env };
      if (result.code !== undefined) f.previous.code = result.code;
      f.previous.result = result.ok ? "success" : "error";
      if (result.output !== undefined) f.previous.output = result.output.split("\n").slice(-20).join("\n");
      f.inStep = false;
      // Within the protocol's limits (templates may have made the text longer).
      const interaction = result.interaction
        ? { interaction: { ...result.interaction, step: stepNo, asked: result.interaction.asked.slice(0, 2000), ...(result.interaction.by ? { by: result.interaction.by.slice(0, 200) } : {}), ...(result.interaction.applied ? { applied: result.interaction.applied.slice(0, 200) } : {}) } }
        : {};
      if (result.defer) {
        // The user postponed: this run ends here; the server (which keeps the count) runs the deployment again later.
        return this.#finish(f, "deferred", { step: stepNo, stepLabel: step.id, detail: `${p.name}: postponed by the user (${(f.deferral?.used ?? 0) + 1} of ${result.defer.maxDeferrals}, ${result.defer.delayMinutes} min)`, deferral: { pkg: f.pkg, step: stepNo }, log, ...interaction });
      }
      if (step.action === "end_success" || step.action === "end_error") {
        if (step.action === "end_error") {
          return this.#finish(f, "failed", { reason: "step", step: stepNo, stepLabel: step.id, exitCode: f.previous.code, detail: `${p.name}: ${result.notes[0] ?? "END_ERROR"} (after step with return code ${f.previous.code ?? "—"})`, log });
        }
        // Package done; the next one (dependencies come first), or the end.
        if (p.removeAfter) await rm(join(dir, `pkg-${f.pkg}`), { recursive: true, force: true });
        if (p.inventoryAfter) this.deps.inventoryNow?.(`deployment ${f.deploymentId}`);
        f.pkg += 1;
        f.step = 0;
        if (f.pkg >= plan.packages.length) return this.#finish(f, "succeeded", { step: stepNo, stepLabel: step.id, detail: `${plan.packages.map((x) => `${x.name} ${x.version}`).join(", ")}: END_SUCCESS`, log });
        await this.#save(f);
        await this.#emit(f, { runId: f.runId, state: "running", step: stepNo, log });
        continue;
      }
      const next = nextStepIndex(steps, stepNo, { ok: result.ok, ...(result.code !== undefined ? { code: result.code } : {}) });
      if (next === null) return this.#finish(f, "failed", { reason: "step", step: stepNo, exitCode: result.code, detail: `${p.name}: no step to go to after ${step.id}`, log, ...interaction });
      f.step = next;
      await this.#save(f);
      if (result.reboot) {
        await this.#emit(f, { runId: f.runId, state: "rebooting", step: stepNo, stepLabel: step.id, detail: result.reboot.message ?? "rebooting", log });
        // Give the event a moment to leave; it stays in the outbox if it does not. (A flush
        // already under way answers at once, so wait for the outbox itself to empty.)
        void this.flush();
        for (const until = Date.now() + 3000; f.outbox.length && this.#send && Date.now() < until; ) await new Promise((r) => setTimeout(r, 25));
        this.deps.log.info(`deployment run ${f.runId}: rebooting the machine (resumes at step ${f.step})`);
        await this.deps.reboot(result.reboot.delaySeconds);
        return;
      }
      await this.#emit(f, { runId: f.runId, state: "running", step: stepNo, stepLabel: step.id, ...(result.code !== undefined ? { exitCode: result.code } : {}), log, ...interaction });
    }
  }
}

/** The machine restart a reboot step asks for: the OS's own command, or `MEDULLA_AGENT_REBOOT=exit` (tests: the process exits as if the machine went down). */
export async function systemReboot(os: "windows" | "linux" | "macos", delaySeconds: number): Promise<void> {
  const how = process.env.MEDULLA_AGENT_REBOOT;
  if (how === "exit") process.exit(0);
  const cmd = os === "windows" ? ["shutdown.exe", "/r", "/t", String(delaySeconds)] : ["shutdown", "-r", delaySeconds > 0 ? `+${Math.ceil(delaySeconds / 60)}` : "now"];
  Bun.spawn(cmd, { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
}
