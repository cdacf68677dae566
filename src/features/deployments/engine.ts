/**
 * @module deployments/engine
 * The durable deployment engine (SPEC P4–P6). Everything it knows is in the database:
 * a deployment's status and, per target machine, an explicit state (queued, waking,
 * waiting for the machine, transferring, running step N, succeeded, failed with a reason,
 * stopped, expired). `advance(id)` looks at that state and the clock and does the next
 * thing; it is safe to call at any time and as often as wanted, which is what makes a
 * restart harmless: the scheduler's sweep (every 30 s), a presence change, an agent's
 * event or the start/deadline jobs all just call it.
 *
 * Nothing runs twice: each target has a `run_id` (new per relaunch) that the agent keeps;
 * sending `deploy` again for the same run (no acknowledgement seen, server restarted) is
 * answered with where the run stands, never a second run. Agent events carry a per-run
 * sequence number, applied once and always acknowledged.
 */
import type { Database } from "bun:sqlite";
import { Value } from "@sinclair/typebox/value";
import type { Clock } from "../../clock.ts";
import { actions, type ActionData, type ActionResult } from "../../protocol/actions.ts";
import type { AgentChannel } from "../../protocol/channel.ts";
import { reply, request, type Envelope } from "../../protocol/envelope.ts";
import type { Scheduler } from "../../scheduler/index.ts";
import type { Recorder } from "../history/service.ts";
import type { MachineListener } from "../machines/service.ts";
import type { MachineRow } from "../machines/repo.ts";
import { liveOutputStore } from "./live-output.ts";
import { frozenFiles, planFor } from "./plan.ts";
import { createPusher, fileReader, type PushItem } from "./push.ts";
import { decideDeferral, grantFor, heldUntil, promptsRepo } from "./prompts.ts";
import { deploymentsRepo, isTerminal, PRE_DISPATCH, type DeploymentRow, type Reason, type RuleRow, type Section, type TargetRow, type TargetState } from "./repo.ts";

export interface EngineLog {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  error(o: object, msg?: string): void;
}

export interface EngineDeps {
  db: Database;
  clock: Clock;
  log: EngineLog;
  scheduler: Scheduler;
  channel: AgentChannel;
  recorder: Recorder;
  machines: { getById(id: number): MachineRow | null | undefined; onChange(l: MachineListener): void };
  timeZone: string;
  /** Machine ids of a group (the machine-groups feature); empty until it is wired. */
  membersOf?: (groupId: number) => number[];
  /** Wake-on-LAN for offline targets; without it they just wait for the machine. */
  wake?: (machineIds: number[]) => void | Promise<void>;
  /** Whether `wake` can do anything now (it may be wired after the engine starts). */
  hasWake?: (machineId: number) => boolean;
  /** Called after a deployment or one of its targets changed, for live pages. */
  onUpdate?: (deploymentId: number, targetId: number | null) => void;
  /** A package file on disk by its SHA-256 (push transfers read it); null when the store lacks it. */
  filePath?: (sha256: string) => string | null;
  /** Push transfers' block size and window (tests). */
  push?: { blockSize?: number; window?: number; timeoutMs?: number };
}

export const TIMING = {
  sweep: "every:30000",
  /** Between two Wake-on-LAN tries, and how many before just waiting. */
  wakeRetryMs: 2 * 60_000,
  wakeTries: 3,
  /** A `deploy` not acknowledged within this is sent again (same run id). */
  resendMs: 60_000,
  /** Sends without a valid acknowledgement before the target fails with reason "agent". */
  maxSends: 5,
  requestTimeoutMs: 30_000,
  defaultDeadlineMs: 24 * 3600_000,
};

export interface LaunchInput {
  kind?: "deploy" | "convergence";
  title: string;
  packageRef: string;
  packageName: string;
  packageVersion: string;
  section: Section;
  /** The frozen plan, JSON (src/protocol/deploy-plan.ts). */
  plan: string;
  transfer: "pull" | "push";
  bandwidthKbps: number;
  priority: "high" | "normal";
  machineIds?: number[];
  groupId?: number | null;
  targetLabel?: string;
  startAt?: number;
  deadlineAt?: number;
  convergenceId?: number | null;
  by: { id: number | null; login: string; ip?: string };
}

const bare = (jid: string) => jid.split("/")[0]!.toLowerCase();

/** Minutes since local midnight in `timeZone`. */
export function minuteOfDay(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(ms);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return get("hour") * 60 + get("minute");
}

/** Inside [start, end) in minutes of the day; a window may wrap past midnight (22:00–06:00). */
export function inWindow(minute: number, start: number | null, end: number | null): boolean {
  if (start === null || end === null || start === end) return true;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

export function createEngine(deps: EngineDeps) {
  const repo = deploymentsRepo(deps.db);
  const live = liveOutputStore(deps.db);
  /** Machines whose agent has spoken since it came online: push sessions may start. */
  const pushReady = new Set<number>();
  const pusher = createPusher({
    channel: deps.channel, log: deps.log, ...deps.push,
    onLog: (targetId, runId, text) => {
      const t = repo.target(targetId);
      if (t && t.run_id === runId) repo.addLog(t.deployment_id, t.id, deps.clock.now(), "download", text);
    },
    onUnsupported: (targetId, runId, detail) => {
      repo.transaction(() => {
        const t = repo.target(targetId);
        if (!t || t.run_id !== runId || isTerminal(t.state)) return;
        const d = repo.find(t.deployment_id)!;
        setState(d, t, "failed", { reason: "agent", detail }, detail);
        finishIfDone(d);
      });
      const t = repo.target(targetId);
      const m = t?.machine_id ? deps.machines.getById(t.machine_id) : null;
      if (m?.jid) deps.channel.send(m.jid, request("deploystop", { runId }));
      if (t) notify(t.deployment_id, t.id);
    },
    onSent: (targetId, _runId, item) => {
      const t = repo.target(targetId);
      if (!t) return;
      deps.recorder.record({
        module: "download", action: "deploy.history.fileServed", params: { file: `${item.sha256.slice(0, 12)} (push)`, machine: t.hostname, bytes: item.size },
        criterion: "deployment", who: t.hostname, target: { type: "machine", id: t.machine_id ?? 0, name: t.hostname },
      });
    },
    stillWanted: (targetId, runId) => {
      const t = repo.target(targetId);
      return !!t && t.run_id === runId && (t.state === "transferring" || t.state === "queued");
    },
  });
  /** Push runs: the plan then the files, read from the store. */
  function startPush(d: DeploymentRow, t: TargetRow, jid: string, os: string): void {
    const plan = planFor(d.plan, os, d.id);
    if ("error" in plan) return;
    const items: PushItem[] = [{ sha256: plan.sha256, size: Buffer.byteLength(plan.json), kind: "plan", label: "plan", read: async (a, b) => new Uint8Array(Buffer.from(plan.json).subarray(a, b)) }];
    const seen = new Set<string>();
    for (const f of plan.plan.packages.flatMap((p) => p.files)) {
      if (seen.has(f.sha256)) continue;
      seen.add(f.sha256);
      const path = deps.filePath?.(f.sha256) ?? null;
      items.push({ sha256: f.sha256, size: f.size, kind: "file", label: f.path, read: path ? fileReader(path) : null });
    }
    pusher.ensure({ targetId: t.id, runId: t.run_id, jid, kbps: d.bandwidth_kbps, items });
  }
  const prompts = promptsRepo(deps.db);
  const { clock, channel, log } = deps;
  const members = deps.membersOf ?? (() => []);
  const canWake = (machineId: number) => (deps.hasWake ? deps.hasWake(machineId) : !!deps.wake);
  const notify = (d: number, t: number | null) => {
    try {
      deps.onUpdate?.(d, t);
    } catch (err) {
      log.warn({ err }, "deployment live update failed");
    }
  };

  // ---- rules (P4) ----
  function ruleChecker() {
    const rules = repo.rules().filter((r) => r.enabled === 1);
    const groupCache = new Map<number, Set<number>>();
    const inGroup = (g: number, m: number) => {
      let s = groupCache.get(g);
      if (!s) groupCache.set(g, (s = new Set(members(g))));
      return s.has(m);
    };
    const ruleFor = (m: MachineRow): RuleRow | undefined => rules.find((r) => (!r.os || r.os === m.os) && (r.group_id === null || inGroup(r.group_id, m.id)));
    const busy = new Map<number, number>();
    for (const t of repo.inFlight()) {
      const m = t.machine_id ? deps.machines.getById(t.machine_id) : null;
      const r = m ? ruleFor(m) : undefined;
      if (r) busy.set(r.id, (busy.get(r.id) ?? 0) + 1);
    }
    const minute = minuteOfDay(clock.now(), deps.timeZone);
    return {
      /** Why the rule holds this machine back now, or null when it may go (and counts it). */
      take(m: MachineRow): string | null {
        const r = ruleFor(m);
        if (!r) return null;
        if (!inWindow(minute, r.window_start, r.window_end)) return `rule "${r.name}": outside its time window`;
        if (r.max_parallel !== null && (busy.get(r.id) ?? 0) >= r.max_parallel) return `rule "${r.name}": ${r.max_parallel} deployments at once already`;
        busy.set(r.id, (busy.get(r.id) ?? 0) + 1);
        return null;
      },
    };
  }

  // ---- state changes, each logged ----
  // Bumped by every change, so that a sweep that changed nothing pushes nothing to open pages.
  let changes = 0;
  function setState(d: DeploymentRow, t: TargetRow, state: TargetState, fields: Partial<TargetRow> = {}, why = ""): void {
    changes++;
    const now = clock.now();
    const terminal = isTerminal(state);
    repo.updateTarget(t.id, { ...fields, state, ...(terminal && !t.finished_at ? { finished_at: now } : {}) }, now);
    if (state !== t.state) {
      repo.addLog(d.id, t.id, now, "state", `${t.state} → ${state}${fields.reason ? ` (${fields.reason})` : ""}${why ? `: ${why}` : ""}`);
      if (terminal) {
        const module = fields.reason === "download" || fields.reason === "checksum" ? "download" : "deployment";
        deps.recorder.record({
          module, action: state === "succeeded" ? "deploy.history.machineSucceeded" : "deploy.history.machineFailed",
          params: { name: d.title, machine: t.hostname, state, reason: fields.reason ?? "", detail: (why || fields.detail || "").slice(0, 300) },
          criterion: "deployment", who: "deployment", target: { type: "machine", id: t.machine_id ?? 0, name: t.hostname },
        });
      }
    }
  }

  function finishIfDone(d: DeploymentRow): void {
    if (d.status !== "running") return;
    const c = repo.counts(d.id);
    if (c.queued + c.waking + c.waiting + c.transferring + c.running > 0) return;
    const now = clock.now();
    const status = c.expired > 0 ? "expired" : "done";
    repo.setStatus(d.id, status, now, true);
    repo.addLog(d.id, null, now, "server", `finished: ${c.succeeded} succeeded, ${c.failed} failed, ${c.expired} expired, ${c.stopped} stopped`);
    deps.recorder.record({
      module: "deployment", action: "deploy.history.finished", params: { name: d.title, succeeded: c.succeeded, failed: c.failed + c.expired, total: c.total },
      criterion: "deployment", who: "deployment", target: { type: "deployment", id: d.id, name: d.title },
    });
  }

  // ---- advancing a deployment ----
  function advance(id: number): void {
    const before = changes;
    const sends: { t: TargetRow; d: DeploymentRow; jid: string; planSha256: string }[] = [];
    const stops: { runId: string; jid: string }[] = [];
    const wakes: number[] = [];
    const pushes: { d: DeploymentRow; t: TargetRow; jid: string; os: string }[] = [];
    repo.transaction(() => {
      let d = repo.find(id);
      if (!d || (d.status !== "scheduled" && d.status !== "running")) return;
      const now = clock.now();
      if (d.status === "scheduled") {
        if (now < d.start_at) return;
        repo.setStatus(d.id, "running", now, false);
        changes++;
        repo.addLog(d.id, null, now, "server", "started");
        d = repo.find(id)!;
      }
      const targets = repo.targets(d.id);
      if (now >= d.deadline_at) {
        for (const t of targets) {
          if (isTerminal(t.state)) continue;
          const m = t.machine_id ? deps.machines.getById(t.machine_id) : null;
          const online = !!m?.jid && m.online === 1;
          const reason: Reason = PRE_DISPATCH.includes(t.state) ? (online ? "expired" : "offline") : online ? "expired" : "vanished";
          const why = reason === "offline" ? "the machine did not come online before the deadline" : reason === "vanished" ? `the machine went offline during the run (${t.state}${t.step !== null ? ` step ${t.step}` : ""}) and did not come back before the deadline` : "the deadline passed before the machine finished";
          setState(d, t, "expired", { reason, detail: why }, why);
          if (t.sent_at && m?.jid) stops.push({ runId: t.run_id, jid: m.jid });
        }
        finishIfDone(d);
        return;
      }
      const rules = ruleChecker();
      for (const t of targets) {
        if (isTerminal(t.state)) continue;
        const m = t.machine_id ? deps.machines.getById(t.machine_id) : null;
        if (!m) {
          setState(d, t, "failed", { reason: "vanished", detail: "the machine was deleted" }, "the machine was deleted");
          continue;
        }
        // Push: the server sends the files of an acknowledged run (again after a reconnection, from the agent's offset).
        if (d.transfer === "push" && t.state === "transferring" && t.acked_at !== null && pushReady.has(m.id) && m.jid && m.online === 1 && channel.isOnline(m.jid)) pushes.push({ d, t, jid: m.jid, os: m.os });
        if (!PRE_DISPATCH.includes(t.state)) continue; // the agent drives transferring / running
        if (heldUntil(t, prompts.deferral(t.id), now) !== null) continue; // postponed by its user (./prompts.ts)
        if (m.banned === 1) {
          setState(d, t, "failed", { reason: "refused", detail: "the machine is banned" }, "the machine is banned");
          continue;
        }
        const online = !!m.jid && m.online === 1 && channel.isOnline(m.jid);
        if (online) {
          if (t.sent_at !== null && now - t.sent_at < TIMING.resendMs) continue; // waiting for its acknowledgement
          if (t.send_count >= TIMING.maxSends) {
            const why = `the agent did not acknowledge the deployment after ${t.send_count} tries`;
            setState(d, t, "failed", { reason: "agent", detail: why }, why);
            continue;
          }
          const held = rules.take(m);
          if (held) {
            if (t.detail !== held || t.state !== "queued") setState(d, t, "queued", { detail: held }, held);
            continue;
          }
          const plan = planFor(d.plan, m.os, d.id);
          if ("error" in plan) {
            setState(d, t, "failed", { reason: "refused", detail: plan.error }, plan.error);
            continue;
          }
          setState(d, t, "queued", { sent_at: now, send_count: t.send_count + 1, detail: "" }, t.send_count > 0 ? `sent again (try ${t.send_count + 1})` : "");
          repo.addLog(d.id, t.id, now, "server", t.send_count > 0 ? `deploy sent again (try ${t.send_count + 1}), run ${t.run_id}` : `deploy sent, run ${t.run_id}`);
          sends.push({ t: repo.target(t.id)!, d, jid: m.jid!, planSha256: plan.sha256 });
          continue;
        }
        // Offline: Wake-on-LAN a few times, then wait for it until the deadline.
        const sinceWake = t.last_wake_at === null ? Infinity : now - t.last_wake_at;
        if (canWake(m.id) && t.wake_tries < TIMING.wakeTries && sinceWake >= TIMING.wakeRetryMs) {
          const why = `Wake-on-LAN, try ${t.wake_tries + 1} of ${TIMING.wakeTries}`;
          setState(d, t, "waking", { wake_tries: t.wake_tries + 1, last_wake_at: now, detail: why }, why);
          repo.addLog(d.id, t.id, now, "server", why);
          wakes.push(m.id);
        } else if (t.state !== "waiting" && (!canWake(m.id) || (t.wake_tries >= TIMING.wakeTries && sinceWake >= TIMING.wakeRetryMs))) {
          const why = "waiting for the machine to come online (until the deadline)";
          setState(d, t, "waiting", { detail: why }, why);
        }
      }
      finishIfDone(d);
    });
    if (changes !== before) notify(id, null);
    for (const s of sends) void send(s.d, s.t, s.jid, s.planSha256);
    for (const p of pushes) startPush(p.d, p.t, p.jid, p.os);
    for (const s of stops) channel.send(s.jid, request("deploystop", { runId: s.runId }));
    if (wakes.length) {
      Promise.resolve()
        .then(() => deps.wake!(wakes))
        .catch((err) => log.warn({ err, machines: wakes }, "Wake-on-LAN failed"));
    }
  }

  async function send(d: DeploymentRow, t: TargetRow, jid: string, planSha256: string): Promise<void> {
    const data: ActionData<"deploy"> = { runId: t.run_id, deploymentId: d.id, planSha256, transfer: d.transfer, bandwidthKbps: d.bandwidth_kbps, deadline: d.deadline_at, deferral: grantFor(d, prompts.deferral(t.id), clock.now()) };
    let answer: Envelope;
    try {
      answer = await channel.request(jid, request("deploy", data), TIMING.requestTimeoutMs);
    } catch (err) {
      // No answer: the sweep sends it again after `resendMs` (same run id, so never twice).
      log.warn({ err: (err as Error).message, runId: t.run_id }, "deploy not acknowledged");
      return;
    }
    onDeployReply(t.id, t.run_id, answer);
  }

  function onDeployReply(targetId: number, runId: string, answer: Envelope): void {
    let pushRefused = false;
    let pushNow = false;
    repo.transaction(() => {
      const t = repo.target(targetId);
      if (!t || t.run_id !== runId) return; // relaunched meanwhile: an old run's answer
      const d = repo.find(t.deployment_id)!;
      const now = clock.now();
      if (answer.ret !== 0 || !Value.Check(actions.deploy.result, answer.data)) {
        const text = `the agent answered deploy with an error or an unreadable reply: ret ${answer.ret} ${JSON.stringify(answer.data).slice(0, 300)}`;
        repo.addLog(d.id, t.id, now, "server", text);
        if (!isTerminal(t.state)) setState(d, t, "failed", { reason: "agent", detail: text.slice(0, 500) }, text);
        finishIfDone(d);
        return;
      }
      const r = answer.data as ActionResult<"deploy">;
      if (isTerminal(t.state)) return;
      if (!r.accepted) {
        const why = r.reason || "the agent refused the deployment";
        setState(d, t, "failed", { reason: "refused", detail: why }, why);
        finishIfDone(d);
        return;
      }
      if (d.transfer === "push" && !(r.transfers ?? []).includes("push")) {
        // An agent older than push transfers would pull instead: refused clearly, and told to stop.
        const why = "the agent does not know push transfers (it is older than this appliance): update the agent, or set the package's transfer method to pull";
        setState(d, t, "failed", { reason: "agent", detail: why }, why);
        finishIfDone(d);
        pushRefused = true;
        return;
      }
      repo.updateTarget(t.id, { acked_at: t.acked_at ?? now }, now);
      if (t.state === "queued") setState(d, t, "transferring", { started_at: t.started_at ?? now }, "acknowledged by the agent");
      pushNow = d.transfer === "push";
      if (t.machine_id !== null) pushReady.add(t.machine_id);
    });
    const t = repo.target(targetId);
    if (t) notify(t.deployment_id, t.id);
    if (t && pushRefused) {
      const m = t.machine_id ? deps.machines.getById(t.machine_id) : null;
      if (m?.jid) channel.send(m.jid, request("deploystop", { runId }));
    }
    if (t && pushNow) advance(t.deployment_id);
  }

  /** An agent's `deployevent`: applied once per sequence number, always acknowledged. */
  function onEvent(from: string, env: Envelope): void {
    const jid = bare(from);
    const e = env.data as ActionData<"deployevent">;
    const t0 = repo.targetByRun(e.runId);
    if (!t0) {
      // A run we never made, or one deleted with its deployment: acknowledge and tell it to stop.
      channel.send(jid, reply(env, { ack: e.seq, stop: true }));
      return;
    }
    const m = t0.machine_id ? deps.machines.getById(t0.machine_id) : null;
    if (!m?.jid || bare(m.jid) !== jid) {
      log.warn({ jid, runId: e.runId }, "deployment event from an agent that does not own the run");
      channel.send(jid, reply(env, { error: "forbidden", detail: "this run belongs to another machine" }, 403));
      return;
    }
    let stop = false;
    let ack = t0.last_seq;
    let warning: string | undefined;
    let rerun = false;
    const resumes: { at: number; name: string }[] = [];
    repo.transaction(() => {
      const t = repo.target(t0.id)!;
      const d = repo.find(t.deployment_id)!;
      ack = t.last_seq;
      if (e.seq <= t.last_seq) {
        stop = isTerminal(t.state);
        return; // already applied: a resend
      }
      const now = clock.now();
      for (const l of e.log ?? []) repo.addLog(d.id, t.id, now, l.kind, l.text, l.step ?? null, l.exitCode ?? null);
      if (e.exec !== undefined && !e.output) live.begin(t.id, t.run_id, e.exec, e.step ?? 0, now);
      if (e.output) {
        const r = live.apply(t.id, t.run_id, e.output, now);
        if (r.problem) {
          warning = r.problem;
          log.warn({ jid, runId: e.runId, seq: e.seq }, `deployment live output: ${r.problem}`);
          repo.addLog(d.id, t.id, now, "server", `live output from the agent: ${r.problem}`);
        }
      }
      if (e.interaction) prompts.addPrompt({ deploymentId: d.id, targetId: t.id, runId: t.run_id, at: now, i: e.interaction });
      const fields: Partial<TargetRow> = { last_seq: e.seq, acked_at: t.acked_at ?? now };
      if (e.step !== undefined) fields.step = e.step;
      if (e.stepLabel !== undefined) fields.step_label = e.stepLabel;
      if (e.exitCode !== undefined) fields.exit_code = e.exitCode;
      if (e.bytesDone !== undefined) fields.bytes_done = e.bytesDone;
      if (e.bytesTotal !== undefined) fields.bytes_total = e.bytesTotal;
      ack = e.seq;
      if (isTerminal(t.state)) {
        // Stopped or expired here already: keep what it says, tell the agent to stop.
        repo.updateTarget(t.id, fields, now);
        stop = true;
        return;
      }
      if (!t.started_at) fields.started_at = now;
      switch (e.state) {
        case "transferring":
          setState(d, t, "transferring", { ...fields, detail: e.detail ?? "" });
          break;
        case "running":
          setState(d, t, "running", { ...fields, detail: e.detail ?? "" }, t.state !== "running" ? `step ${e.step ?? 0}` : "");
          break;
        case "rebooting":
          setState(d, t, "running", { ...fields, detail: e.detail ?? "rebooting" }, "rebooting");
          break;
        case "succeeded":
          setState(d, t, "succeeded", { ...fields, reason: null, detail: e.detail ?? "" }, e.detail ?? "");
          break;
        case "deferred": {
          // The user postponed: checked against the plan's defer step and the count kept here.
          const plan = m ? planFor(d.plan, m.os, d.id) : null;
          const step = plan && !("error" in plan) && e.deferral ? plan.plan.packages[e.deferral.pkg]?.steps[e.deferral.step] : undefined;
          const dec = decideDeferral(d, prompts.deferral(t.id), step, now);
          const fresh: Partial<TargetRow> = { run_id: crypto.randomUUID(), last_seq: 0, sent_at: null, send_count: 0, acked_at: null, step: null, step_label: "", exit_code: null, bytes_done: 0, bytes_total: 0, reason: null };
          if (dec.ok) {
            prompts.saveDeferral({ targetId: t.id, deploymentId: d.id, used: dec.used, max: dec.max, delay: dec.delay, resumeAt: dec.resumeAt, capped: dec.capped }, now);
            const why = `deferred by the user until ${new Date(dec.resumeAt).toISOString()} (${dec.used} of ${dec.max})${dec.capped ? "; shortened by the deadline, the next run does not ask" : ""}`;
            setState(d, t, "queued", { ...fields, ...fresh, detail: why }, why);
            resumes.push({ at: dec.resumeAt, name: `deployment-resume:${t.id}:${dec.used}` });
            deps.recorder.record({
              module: "deployment", action: "deploy.history.machineDeferred",
              params: { name: d.title, machine: t.hostname, by: (e.interaction?.by ?? "").slice(0, 100), until: new Date(dec.resumeAt).toISOString(), used: dec.used, max: dec.max },
              criterion: "deployment", who: "deployment", target: { type: "machine", id: t.machine_id ?? 0, name: t.hostname },
            });
          } else {
            prompts.saveDeferral({ targetId: t.id, deploymentId: d.id, used: dec.used, max: dec.max, delay: dec.delay, resumeAt: null, capped: true }, now);
            const why = `postponement refused (${dec.why}): runs again now without asking`;
            setState(d, t, "queued", { ...fields, ...fresh, detail: why }, why);
            rerun = true;
          }
          break;
        }
        case "failed":
        case "stopped": {
          const reason: Reason = e.state === "stopped" ? "stopped" : (e.reason ?? "step");
          setState(d, t, e.state === "stopped" ? "stopped" : "failed", { ...fields, reason, detail: e.detail ?? "" }, e.detail ?? "");
          break;
        }
      }
      finishIfDone(repo.find(d.id)!);
    });
    channel.send(jid, reply(env, { ack, ...(stop ? { stop } : {}), ...(warning ? { warning } : {}) }));
    // A push run's agent speaking (after a restart it reports its transfer again): its files can go now.
    if (m.online === 1 && !pushReady.has(m.id)) {
      pushReady.add(m.id);
      if (repo.find(t0.deployment_id)?.transfer === "push") advance(t0.deployment_id);
    }
    notify(t0.deployment_id, t0.id);
    for (const r of resumes) deps.scheduler.enqueue("deployments.advance", { id: t0.deployment_id }, { runAt: r.at, name: r.name });
    if (rerun) advance(t0.deployment_id);
  }

  // ---- wiring ----
  channel.onMessage((from, env) => {
    if (env.action === "deployevent") onEvent(from, env);
  });
  deps.machines.onChange((m, change) => {
    // Push sessions start only once the agent has spoken since it came online (its announce,
    // an event, a reply): right at presence its handlers may not listen yet.
    if (change === "online" || change === "offline") pushReady.delete(m.id);
    if (change === "updated" && m.online === 1 && !pushReady.has(m.id)) {
      pushReady.add(m.id);
      for (const t of repo.activeTargetsOfMachine(m.id)) if (t.state === "transferring") advance(t.deployment_id);
      return;
    }
    if (change !== "online" && change !== "deleted") return;
    const ids = new Set(repo.activeTargetsOfMachine(m.id).map((t) => t.deployment_id));
    if (change === "deleted") for (const d of repo.active()) ids.add(d.id);
    for (const id of ids) advance(id);
  });
  deps.scheduler.register("deployments.sweep", () => {
    for (const d of repo.active()) advance(d.id);
  });
  deps.scheduler.register("deployments.advance", (payload: { id?: unknown }) => {
    if (typeof payload.id === "number") advance(payload.id);
  });
  deps.scheduler.schedule("deployments.sweep", "deployments.sweep", TIMING.sweep);

  return {
    repo,
    /** Running steps' output as it comes (./live-output.ts). */
    live,
    prompts,
    advance,

    /** Creates a deployment and its targets; it starts at `startAt` (now by default). */
    launch(input: LaunchInput): number {
      const now = clock.now();
      const startAt = Math.max(input.startAt ?? now, now);
      const deadlineAt = input.deadlineAt ?? startAt + TIMING.defaultDeadlineMs;
      if (deadlineAt <= startAt) throw new Error("the deadline must come after the start");
      const ids = [...new Set(input.machineIds?.length ? input.machineIds : input.groupId ? members(input.groupId) : [])];
      const planSha256 = new Bun.CryptoHasher("sha256").update(input.plan).digest("hex");
      const id = repo.transaction(() => {
        const id = repo.insertDeployment(
          {
            kind: input.kind ?? "deploy", title: input.title, packageRef: input.packageRef, packageName: input.packageName, packageVersion: input.packageVersion,
            section: input.section, plan: input.plan, planSha256, transfer: input.transfer, bandwidthKbps: input.bandwidthKbps, priority: input.priority,
            targetType: input.groupId ? "group" : "machines", targetId: input.groupId ?? null, targetLabel: input.targetLabel ?? "", startAt, deadlineAt,
            convergenceId: input.convergenceId ?? null, createdBy: input.by.id, createdByLogin: input.by.login,
          },
          now,
        );
        for (const mid of ids) {
          const m = deps.machines.getById(mid);
          if (m) repo.insertTarget(id, mid, m.hostname, now);
        }
        repo.addLog(id, null, now, "server", `created by ${input.by.login || "the system"} for ${ids.length} machine(s), start ${new Date(startAt).toISOString()}, deadline ${new Date(deadlineAt).toISOString()}`);
        deps.recorder.record({
          module: "deployment", action: startAt > now ? "deploy.history.scheduled" : "deploy.history.launched",
          params: { name: input.title, count: ids.length, section: input.section }, criterion: startAt > now ? "planned" : "deployment",
          userId: input.by.id, userLogin: input.by.login, who: input.by.id ? "" : "convergence", sourceIp: input.by.ip, target: { type: "deployment", id, name: input.title },
        });
        return id;
      });
      deps.scheduler.enqueue("deployments.advance", { id }, { runAt: startAt, name: `deployment-start:${id}` });
      deps.scheduler.enqueue("deployments.advance", { id }, { runAt: deadlineAt, name: `deployment-deadline:${id}` });
      if (startAt <= now) advance(id);
      return id;
    },

    /** Stops every target not finished; runs under way are told to stop. */
    stop(id: number, by: { id: number | null; login: string; ip?: string }): void {
      const stops: { runId: string; jid: string }[] = [];
      repo.transaction(() => {
        const d = repo.find(id);
        if (!d || (d.status !== "scheduled" && d.status !== "running")) return;
        const now = clock.now();
        for (const t of repo.targets(id)) {
          if (isTerminal(t.state)) continue;
          const why = `stopped by ${by.login}`;
          setState(d, t, "stopped", { reason: "stopped", detail: why }, why);
          const m = t.machine_id ? deps.machines.getById(t.machine_id) : null;
          if (t.sent_at && m?.jid) stops.push({ runId: t.run_id, jid: m.jid });
        }
        repo.setStatus(id, "stopped", now, true);
        repo.addLog(id, null, now, "server", `stopped by ${by.login}`);
        deps.recorder.record({ module: "deployment", action: "deploy.history.stopped", params: { name: d.title }, criterion: "deployment", userId: by.id, userLogin: by.login, sourceIp: by.ip, target: { type: "deployment", id, name: d.title } });
      });
      for (const s of stops) channel.send(s.jid, request("deploystop", { runId: s.runId }));
      notify(id, null);
    },

    /** Relaunches only the failed and expired machines, each with a new run id. */
    relaunchFailed(id: number, by: { id: number | null; login: string; ip?: string }): number {
      let n = 0;
      repo.transaction(() => {
        const d = repo.find(id);
        if (!d) return;
        const now = clock.now();
        for (const t of repo.targets(id)) {
          if (t.state !== "failed" && t.state !== "expired") continue;
          if (t.machine_id === null) continue; // a deleted machine cannot be relaunched
          repo.updateTarget(t.id, {
            state: "queued", reason: null, detail: "", step: null, step_label: "", exit_code: null, run_id: crypto.randomUUID(), attempt: t.attempt + 1, last_seq: 0,
            wake_tries: 0, last_wake_at: null, sent_at: null, send_count: 0, acked_at: null, bytes_done: 0, bytes_total: 0, started_at: null, finished_at: null,
          }, now);
          repo.addLog(id, t.id, now, "state", `${t.state} → queued: relaunched by ${by.login} (attempt ${t.attempt + 1})`);
          n++;
        }
        if (n === 0) return;
        const deadline = d.deadline_at > now ? d.deadline_at : now + Math.max(d.deadline_at - d.start_at, 3600_000);
        repo.updateDeployment(id, { status: "running", finished_at: null, deadline_at: deadline }, now);
        repo.addLog(id, null, now, "server", `${n} failed machine(s) relaunched by ${by.login}`);
        deps.recorder.record({ module: "deployment", action: "deploy.history.relaunched", params: { name: d.title, count: n }, criterion: "deployment", userId: by.id, userLogin: by.login, sourceIp: by.ip, target: { type: "deployment", id, name: d.title } });
        if (deadline !== d.deadline_at) deps.scheduler.enqueue("deployments.advance", { id }, { runAt: deadline, name: `deployment-deadline:${id}:${deadline}` });
      });
      if (n > 0) advance(id);
      return n;
    },

    /** For the file route: whether this machine has a run under way whose plan holds `sha256`. */
    /** The plan a run's machine fetches over HTTPS: only the machine that owns the run gets it. */
    planOfRun(runId: string, machineId: number): { json: string; sha256: string } | null {
      const t = repo.targetByRun(runId);
      if (!t || t.machine_id !== machineId || isTerminal(t.state)) return null;
      const m = deps.machines.getById(machineId);
      const plan = m ? planFor(repo.find(t.deployment_id)!.plan, m.os, t.deployment_id) : null;
      return plan && !("error" in plan) ? { json: plan.json, sha256: plan.sha256 } : null;
    },

    machineMayFetch(machineId: number, sha256: string): boolean {
      // Push runs get their files over XMPP only: an agent too old for push cannot pull them instead.
      return repo.activeTargetsOfMachine(machineId).some((t) => {
        const d = repo.find(t.deployment_id)!;
        return t.sent_at !== null && d.transfer === "pull" && frozenFiles(d.plan).has(sha256);
      });
    },
  };
}

export type Engine = ReturnType<typeof createEngine>;
