/**
 * @module deployments/push
 * Push transfers, the sending end: for a run whose package says `push`, the appliance
 * sends the plan and the files to the agent over the agent's own XMPP connection, so a
 * machine that reaches only the XMPP port still gets them (the receiving end:
 * agent/src/deploy/push.ts).
 *
 * Why XEP-0047 semantics in our JSON envelope rather than XEP-0047 `<iq>` stanzas: every
 * exchange with agents already goes through the envelope (`AgentChannel`: the embedded
 * relay today, an XEP-0114 component on an external server later), with its schemas,
 * its request/reply matching and its timeouts; IBB as `<iq>` would need a second routing
 * and parsing path in the relay, the component and the agent. We keep IBB's shape —
 * open with a block size, numbered base64 blocks each acknowledged, several in flight,
 * close — and add one thing it lacks: the `pushopen` answer says how many bytes the agent
 * already holds, and sending resumes there after a reconnection or an agent restart.
 *
 * Blocks are 32 KiB (43,692 base64 characters: well under the 64 KiB envelope and the
 * relay's 256 KiB stanza limit) with 8 in flight; the package's bandwidth limit paces the
 * sending per machine. A session that stalls (the agent went away, a block refused) just
 * ends; the engine starts a new one when the machine is back or at its next sweep, and the
 * agent's offset makes that cheap. The agent checks the SHA-256 at the end; a file whose
 * bytes are wrong is sent once more, then the run fails with reason `checksum`. A file the
 * store does not hold ends the session with an error: the run fails with reason `download`.
 */
import { Value } from "@sinclair/typebox/value";
import { actions, PUSH } from "../../protocol/actions.ts";
import type { AgentChannel } from "../../protocol/channel.ts";
import { request, Ret, type Envelope } from "../../protocol/envelope.ts";

export interface PushItem {
  sha256: string;
  size: number;
  kind: "plan" | "file";
  /** For the log: the file's path in the package, or "plan". */
  label: string;
  /** The bytes [start, end), or null when the store does not hold them. */
  read: ((start: number, end: number) => Promise<Uint8Array>) | null;
}

export interface PushJob {
  targetId: number;
  runId: string;
  jid: string;
  kbps: number;
  items: PushItem[];
}

export interface PushDeps {
  channel: AgentChannel;
  log: { info(o: object, msg?: string): void; warn(o: object, msg?: string): void };
  /** A line for the machine's deployment log (kind `download`). */
  onLog(targetId: number, runId: string, text: string): void;
  /** The agent does not know the push actions: the target fails (reason `agent`). */
  onUnsupported(targetId: number, runId: string, detail: string): void;
  /** A file (not the plan) arrived whole and checked at the agent (the history records it, as for a pull). */
  onSent?(targetId: number, runId: string, item: PushItem): void;
  /** Whether the run still wants its files (still transferring, not stopped or relaunched). */
  stillWanted(targetId: number, runId: string): boolean;
  blockSize?: number;
  window?: number;
  timeoutMs?: number;
}

/** Sleeps just long enough that the bytes sent stay under `kbps` (kilobits per second). */
class Pacer {
  #bytes = 0;
  readonly #started = performance.now();
  constructor(private readonly kbps: number) {}
  async take(n: number): Promise<void> {
    if (this.kbps <= 0) return;
    this.#bytes += n;
    const ahead = (this.#bytes * 8) / this.kbps - (performance.now() - this.#started);
    if (ahead > 5) await Bun.sleep(ahead);
  }
}

class Stop extends Error {}

export function fileReader(path: string): (start: number, end: number) => Promise<Uint8Array> {
  return async (start, end) => new Uint8Array(await Bun.file(path).slice(start, end).arrayBuffer());
}

export function createPusher(deps: PushDeps) {
  const blockSize = deps.blockSize ?? PUSH.blockSize;
  const window = deps.window ?? PUSH.window;
  const timeoutMs = deps.timeoutMs ?? 30_000;
  const running = new Map<number, string>();

  const ask = async (job: PushJob, action: "pushopen" | "pushdata" | "pushclose", data: Record<string, unknown>): Promise<Envelope> => {
    const answer = await deps.channel.request(job.jid, request(action, data), timeoutMs);
    if (answer.ret === Ret.unknownAction && action === "pushopen") {
      deps.onUnsupported(job.targetId, job.runId, "the agent does not know push transfers (it is older than this appliance): update the agent, or set the package's transfer method to pull");
      throw new Stop("unsupported");
    }
    if (answer.ret !== 0) throw new Stop(`${action} refused: ${String(answer.data.detail ?? answer.data.error ?? answer.ret).slice(0, 300)}`);
    if (!Value.Check(actions[action].result, answer.data)) throw new Stop(`${action}: an unreadable answer`);
    return answer;
  };

  /** One file: "done", "checksum" (the agent found it wrong), or throws Stop. */
  async function pushOne(job: PushJob, item: PushItem, pacer: Pacer): Promise<"done" | "checksum"> {
    const sid = crypto.randomUUID();
    const open = (await ask(job, "pushopen", { runId: job.runId, sid, sha256: item.sha256, size: item.size, blockSize, kind: item.kind })).data as { accepted: boolean; offset: number; complete?: boolean; reason?: string };
    if (!open.accepted) throw new Stop(`the agent declined ${item.label}: ${open.reason ?? ""}`);
    if (open.complete) return "done";
    if (open.offset > item.size) throw new Stop(`the agent claims ${open.offset} bytes of ${item.label}, which has ${item.size}`);
    if (!item.read) {
      await ask(job, "pushclose", { sid, error: { reason: "download", detail: `the appliance's store does not hold ${item.label} (${item.sha256.slice(0, 12)}…)` } });
      throw new Stop(`${item.label} is not in the store`);
    }
    if (open.offset > 0) deps.onLog(job.targetId, job.runId, `push of ${item.label} resumed at byte ${open.offset} of ${item.size} (the agent already held them)`);
    let pos = open.offset;
    let seq = 0;
    const inflight: Promise<void>[] = [];
    while (pos < item.size || inflight.length) {
      while (inflight.length < window && pos < item.size) {
        if (!deps.stillWanted(job.targetId, job.runId)) throw new Stop("the run no longer wants its files");
        const end = Math.min(pos + blockSize, item.size);
        const bytes = await item.read(pos, end);
        await pacer.take(bytes.byteLength);
        const mySeq = seq++;
        const p = ask(job, "pushdata", { sid, seq: mySeq, offset: pos, data: Buffer.from(bytes).toString("base64") }).then((a) => {
          if (a.data.ack !== mySeq) throw new Stop(`block ${mySeq} acknowledged as ${String(a.data.ack)}`);
        });
        p.catch(() => undefined); // awaited below, in order
        inflight.push(p);
        pos = end;
      }
      await inflight.shift();
    }
    const close = (await ask(job, "pushclose", { sid })).data as { ok: boolean; reason?: string; detail?: string };
    if (close.ok) {
      if (item.kind === "file") deps.onSent?.(job.targetId, job.runId, item);
      return "done";
    }
    if (close.reason === "checksum") return "checksum";
    throw new Stop(`the agent did not take ${item.label}: ${close.reason ?? ""} ${close.detail ?? ""}`);
  }

  async function run(job: PushJob): Promise<void> {
    const pacer = new Pacer(job.kbps);
    try {
      for (const item of job.items) {
        for (let attempt = 1; ; attempt++) {
          const r = await pushOne(job, item, pacer);
          if (r === "done") break;
          deps.onLog(job.targetId, job.runId, `push of ${item.label}: the agent found its SHA-256 wrong${attempt < 2 ? "; sending it again" : ""}`);
          if (attempt >= 2) throw new Stop("checksum wrong twice");
        }
      }
      deps.log.info({ runId: job.runId, files: job.items.length }, "push transfer complete");
    } catch (err) {
      // A stall or a refusal: the engine starts a new session later (the agent's offset makes it cheap).
      deps.log.warn({ runId: job.runId, err: (err as Error).message }, "push transfer stopped");
    }
  }

  /** Asked for while a session of the same run was still going (a reconnection): started when it ends. */
  const again = new Map<number, PushJob>();
  function start(job: PushJob): void {
    running.set(job.targetId, job.runId);
    void run(job).finally(() => {
      if (running.get(job.targetId) === job.runId) running.delete(job.targetId);
      const next = again.get(job.targetId);
      again.delete(job.targetId);
      if (next && !running.has(next.targetId) && deps.stillWanted(next.targetId, next.runId)) start(next);
    });
  }

  return {
    /**
     * Starts pushing a run's files unless that run is already being pushed; then, once that
     * session ends, a new one starts (the agent came back while the old one was stalling).
     */
    ensure(job: PushJob): boolean {
      if (running.get(job.targetId) === job.runId) {
        again.set(job.targetId, job);
        return false;
      }
      start(job);
      return true;
    },
    active: (targetId: number) => running.has(targetId),
  };
}

export type Pusher = ReturnType<typeof createPusher>;
