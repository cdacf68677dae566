/**
 * @module agent/deploy/push
 * The receiving end of push transfers: the appliance sends a push run's plan and files
 * over the agent's own XMPP connection, so a machine that reaches only the XMPP port
 * still gets them. The semantics are XEP-0047 In-Band Bytestreams' — `pushopen` (a
 * session id and a block size), numbered `pushdata` blocks in base64 each acknowledged,
 * several in flight, `pushclose` — carried in our JSON envelope (src/protocol/actions.ts)
 * rather than as XEP-0047 `<iq>` stanzas: every agent message already goes through that
 * envelope, its schema checks and its request/reply matching (the embedded relay and an
 * external server's XEP-0114 component alike), and our `pushopen` answer adds what
 * XEP-0047 has no word for: the bytes the agent already holds, so a transfer cut by a
 * reconnection or a restart resumes there instead of starting over.
 *
 * Bytes land in the same place the pull path uses (`<config>.deploy/files/<sha256>.part`,
 * renamed to `<sha256>` once its SHA-256 is checked), so the runner does not care how
 * they came. Blocks are written in order (one chain per session; XMPP keeps their order);
 * a block out of order, too long, past the announced size or not base64 is refused with
 * the reason, and the server starts a new session from what is held.
 */
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { ActionData, ActionResult } from "../../../src/protocol/actions.ts";
import type { Logger } from "../log.ts";
import { TransferError } from "./transfer.ts";

interface Session {
  sid: string;
  runId: string;
  sha256: string;
  size: number;
  blockSize: number;
  part: string;
  fh: FileHandle;
  have: number;
  nextSeq: number;
  chain: Promise<unknown>;
  broken: string | null;
}

interface Waiter {
  resolve(): void;
  reject(e: Error): void;
  progress?(have: number): void;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

async function sha256Of(path: string): Promise<string> {
  const h = new Bun.CryptoHasher("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

export class PushReceiver {
  readonly #sessions = new Map<string, Session>();
  readonly #waiters = new Map<string, Set<Waiter>>();
  readonly #checksumFailures = new Map<string, number>();
  readonly #verified = new Set<string>();

  constructor(
    private readonly o: {
      filesDir: string;
      log: Logger;
      /** Why a push for this run is not wanted now (null: wanted). */
      refuses(runId: string, sha256: string, kind: "plan" | "file"): string | null;
    },
  ) {}

  #dest = (sha: string) => join(this.o.filesDir, sha);

  /** Whether `files/<sha>` holds exactly that file (checked once per process). */
  async #have(sha: string, size?: number): Promise<boolean> {
    const st = await stat(this.#dest(sha)).catch(() => null);
    if (!st || (size !== undefined && st.size !== size)) return false;
    if (this.#verified.has(sha)) return true;
    if ((await sha256Of(this.#dest(sha))) === sha) {
      this.#verified.add(sha);
      return true;
    }
    await rm(this.#dest(sha), { force: true });
    return false;
  }

  /**
   * The runner's side: resolves once `files/<sha>` holds the file, checked. Rejects with a
   * TransferError when the server says it cannot send it or its bytes fail their SHA-256
   * twice; with the signal's reason when the run stops.
   */
  async want(sha: string, signal: AbortSignal, progress?: (have: number) => void): Promise<void> {
    if (await this.#have(sha)) return;
    await new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        resolve: () => (done(), resolve()),
        reject: (e) => (done(), reject(e)),
        progress,
      };
      const onAbort = () => w.reject(signal.reason instanceof Error ? signal.reason : new Error("stopped"));
      const done = () => {
        this.#waiters.get(sha)?.delete(w);
        signal.removeEventListener("abort", onAbort);
      };
      let set = this.#waiters.get(sha);
      if (!set) this.#waiters.set(sha, (set = new Set()));
      set.add(w);
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  #notify(sha: string, f: (w: Waiter) => void): void {
    for (const w of [...(this.#waiters.get(sha) ?? [])]) f(w);
  }

  async #end(s: Session): Promise<void> {
    this.#sessions.delete(s.sid);
    await s.chain.catch(() => undefined);
    await s.fh.close().catch(() => undefined);
  }

  /** `pushopen`: where to start from (what is held), or why not. */
  async open(d: ActionData<"pushopen">): Promise<ActionResult<"pushopen">> {
    const refused = this.o.refuses(d.runId, d.sha256, d.kind ?? "file");
    if (refused) return { accepted: false, offset: 0, reason: refused };
    if (this.#sessions.has(d.sid)) return { accepted: false, offset: 0, reason: `session ${d.sid} is already open` };
    // A new session for the same file supersedes an older one (the server lost it).
    for (const s of [...this.#sessions.values()]) if (s.sha256 === d.sha256) await this.#end(s);
    if (await this.#have(d.sha256, d.size)) {
      this.#notify(d.sha256, (w) => (w.progress?.(d.size), w.resolve()));
      return { accepted: true, offset: d.size, complete: true };
    }
    await mkdir(this.o.filesDir, { recursive: true });
    const part = `${this.#dest(d.sha256)}.part`;
    let have = (await stat(part).catch(() => null))?.size ?? 0;
    if (have > d.size) {
      await rm(part, { force: true });
      have = 0;
    }
    const fh = await open(part, "a");
    this.#sessions.set(d.sid, { sid: d.sid, runId: d.runId, sha256: d.sha256, size: d.size, blockSize: d.blockSize, part, fh, have, nextSeq: 0, chain: Promise.resolve(), broken: null });
    if (have > 0) this.o.log.info(`push of ${d.sha256.slice(0, 12)}… resumes at byte ${have} of ${d.size}`);
    this.#notify(d.sha256, (w) => w.progress?.(have));
    return { accepted: true, offset: have };
  }

  /** `pushdata`: one block, written in order; answered once it is on disk. */
  data(d: ActionData<"pushdata">): Promise<ActionResult<"pushdata">> {
    const s = this.#sessions.get(d.sid);
    if (!s) return Promise.reject(new Error(`no open push session ${d.sid}`));
    const next = s.chain.then(async () => {
      if (s.broken) throw new Error(s.broken);
      const fail = (why: string) => {
        s.broken = why;
        throw new Error(why);
      };
      if (d.seq !== s.nextSeq) fail(`block ${d.seq} out of order: expected block ${s.nextSeq}`);
      if (d.offset !== s.have) fail(`block ${d.seq} starts at byte ${d.offset}: expected byte ${s.have}`);
      if (d.data.length % 4 !== 0 || !BASE64.test(d.data)) fail(`block ${d.seq} is not base64`);
      const bytes = Buffer.from(d.data, "base64");
      if (bytes.length === 0 || bytes.length > s.blockSize) fail(`block ${d.seq} holds ${bytes.length} bytes: the block size is ${s.blockSize}`);
      if (s.have + bytes.length > s.size) fail(`block ${d.seq} goes past the announced ${s.size} bytes`);
      await s.fh.write(bytes);
      s.have += bytes.length;
      s.nextSeq += 1;
      this.#notify(s.sha256, (w) => w.progress?.(s.have));
      return { ack: d.seq, have: s.have };
    });
    s.chain = next.catch(() => undefined);
    return next;
  }

  /** `pushclose`: the file is whole (check, rename) or the server gives up on it. */
  async close(d: ActionData<"pushclose">): Promise<ActionResult<"pushclose">> {
    const s = this.#sessions.get(d.sid);
    if (!s) return { ok: false, reason: "unknown", detail: `no open push session ${d.sid}` };
    await this.#end(s);
    if (d.error) {
      this.o.log.warn(`the server cannot push ${s.sha256.slice(0, 12)}…: ${d.error.detail}`);
      this.#notify(s.sha256, (w) => w.reject(new TransferError(d.error!.reason, d.error!.detail)));
      return { ok: true };
    }
    if (s.have !== s.size) return { ok: false, reason: "download", detail: `${s.have} of ${s.size} bytes held` };
    const digest = await sha256Of(s.part);
    if (digest !== s.sha256) {
      await rm(s.part, { force: true });
      const n = (this.#checksumFailures.get(s.sha256) ?? 0) + 1;
      this.#checksumFailures.set(s.sha256, n);
      const detail = `file ${s.sha256.slice(0, 12)}… arrived with SHA-256 ${digest.slice(0, 12)}…: deleted`;
      this.o.log.warn(detail);
      // Sent again once; wrong twice, the run fails as a checksum error.
      if (n >= 2) this.#notify(s.sha256, (w) => w.reject(new TransferError("checksum", detail)));
      return { ok: false, reason: "checksum", detail };
    }
    await rename(s.part, this.#dest(s.sha256));
    this.#verified.add(s.sha256);
    this.#notify(s.sha256, (w) => w.resolve());
    return { ok: true };
  }
}
