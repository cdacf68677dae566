/**
 * @module net/tftp/lockstep
 * The fast path for transfers one block at a time (no windowsize): each runs in a worker
 * thread with blocking `send`/`recv` on its own connected socket, through libc (bun:ffi).
 * Why: one block at a time, a transfer's speed is one round trip per block, and a round trip
 * through the event loop costs Bun about as much again as the whole exchange costs dnsmasq
 * (measured: Bun↔Bun echo ~35 µs; blocking calls reach dnsmasq's speed or better).
 * The worker's code is one self-contained function turned into a Blob URL, so it works the same
 * from the sources and from the compiled binary. When libc cannot be loaded (not Linux), or all
 * workers are busy, the server's event-loop path serves the transfer instead.
 *
 * Same rules as the event-loop path: retransmission only on timeout (`retries` times), duplicate
 * or stale ACKs ignored, an error from the client ends the transfer (after the OACK, a size probe
 * is "declined"), a client gone (ICMP port unreachable) ends it at once. Stopping the server sets
 * a shared flag that the workers read at least every 200 ms.
 */

export interface LockstepJob {
  id: number;
  bind: string;
  ip: string;
  port: number;
  path: string;
  size: number;
  blksize: number;
  timeoutMs: number;
  retries: number;
  /** The OACK to send first (then ACK 0 is awaited), or null: data starts at once. */
  oack: Uint8Array | null;
}

export interface LockstepResult {
  id: number;
  outcome: "done" | "failed" | "declined";
  reason?: string;
  bytes: number;
}

/** The worker's whole program. It must not reference anything outside itself. */
function lockstepWorker(): void {
  (async () => {
    let S: Record<string, (...a: unknown[]) => number | bigint>;
    let ptrOf: (b: ArrayBufferView) => number;
    let readI32: (p: number, off?: number) => number;
    const fs = await import("node:fs");
    try {
      const ffi = await import("bun:ffi");
      const T = ffi.FFIType;
      const lib = ffi.dlopen(process.platform === "linux" ? "libc.so.6" : "libc.dylib", {
        socket: { args: [T.i32, T.i32, T.i32], returns: T.i32 },
        bind: { args: [T.i32, T.ptr, T.u32], returns: T.i32 },
        connect: { args: [T.i32, T.ptr, T.u32], returns: T.i32 },
        send: { args: [T.i32, T.ptr, T.u64, T.i32], returns: T.i64 },
        recv: { args: [T.i32, T.ptr, T.u64, T.i32], returns: T.i64 },
        setsockopt: { args: [T.i32, T.i32, T.i32, T.ptr, T.u32], returns: T.i32 },
        close: { args: [T.i32], returns: T.i32 },
        __errno_location: { args: [], returns: T.ptr },
      });
      S = lib.symbols as never;
      ptrOf = (b) => ffi.ptr(b as never) as unknown as number;
      readI32 = (p, off = 0) => ffi.read.i32(p as never, off);
      if (process.platform !== "linux") throw new Error("only Linux's socket layout is known");
    } catch (err) {
      postMessage({ ready: false, error: String(err) });
      return;
    }
    const errno = () => readI32(S.__errno_location!() as number);
    const sockaddr = (ip: string, port: number) => {
      const b = new Uint8Array(16);
      b[0] = 2; // AF_INET (little-endian u16)
      b[2] = port >> 8;
      b[3] = port & 255;
      ip.split(".").forEach((p, i) => (b[4 + i] = Number(p)));
      return b;
    };
    let stop: Int32Array | null = null;

    function run(job: { id: number; bind: string; ip: string; port: number; path: string; size: number; blksize: number; timeoutMs: number; retries: number; oack: Uint8Array | null }) {
      const result = (outcome: string, bytes: number, reason?: string) => ({ id: job.id, outcome, bytes, reason });
      const fd = Number(S.socket!(2, 2 | 0x80000, 0)); // AF_INET, SOCK_DGRAM | SOCK_CLOEXEC
      if (fd < 0) return result("failed", 0, `socket: errno ${errno()}`);
      let file = -1;
      try {
        const local = sockaddr(job.bind, 0);
        const peer = sockaddr(job.ip, job.port);
        if (Number(S.bind!(fd, ptrOf(local), 16)) < 0) return result("failed", 0, `bind: errno ${errno()}`);
        if (Number(S.connect!(fd, ptrOf(peer), 16)) < 0) return result("failed", 0, `connect: errno ${errno()}`);
        const tv = new BigInt64Array([0n, 200_000n]); // recv wakes every 200 ms to read the stop flag
        S.setsockopt!(fd, 1, 20, ptrOf(tv), 16); // SOL_SOCKET, SO_RCVTIMEO
        file = fs.openSync(job.path, "r");
        const chunk = Buffer.allocUnsafe(Math.max(256 * 1024, job.blksize));
        let chunkStart = 0;
        let chunkLen = 0;
        const pkt = Buffer.allocUnsafe(4 + job.blksize);
        const inbox = new Uint8Array(1500);
        const pktPtr = ptrOf(pkt);
        const inPtr = ptrOf(inbox);
        /** Waits for ACK `wire`; ignores anything else that is not an error. */
        const waitAck = (wire: number): { kind: "ack" } | { kind: "timeout" } | { kind: "gone" } | { kind: "stopped" } | { kind: "error"; code: number; text: string } => {
          const deadline = performance.now() + job.timeoutMs;
          let ignored = 0;
          while (performance.now() < deadline) {
            if (stop && Atomics.load(stop, 0) === 1) return { kind: "stopped" };
            const n = Number(S.recv!(fd, inPtr, 1500, 0));
            if (n < 0) {
              const e = errno();
              if (e === 11 || e === 4) continue; // EAGAIN (the 200 ms slice), EINTR
              if (e === 111) return { kind: "gone" }; // ECONNREFUSED
              return { kind: "error", code: -1, text: `recv: errno ${e}` };
            }
            if (n < 4) continue;
            const op = (inbox[0]! << 8) | inbox[1]!;
            const num = (inbox[2]! << 8) | inbox[3]!;
            if (op === 4 && num === wire) return { kind: "ack" };
            if (op === 5) return { kind: "error", code: num, text: new TextDecoder().decode(inbox.subarray(4, n)).replace(/\0.*$/s, "").slice(0, 100) };
            if (++ignored > 10_000) return { kind: "error", code: -1, text: "too many stray packets" };
          }
          return { kind: "timeout" };
        };
        const send = (p: number, len: number) => {
          const n = Number(S.send!(fd, p, len, 0));
          return n >= 0 || errno() !== 111;
        };
        if (job.oack) {
          const oack = new Uint8Array(job.oack);
          const oPtr = ptrOf(oack);
          for (let tries = 0; ; tries++) {
            if (!send(oPtr, oack.length)) return result("failed", 0, "client gone");
            const r = waitAck(0);
            if (r.kind === "ack") break;
            if (r.kind === "stopped") return result("failed", 0, "server stopping");
            if (r.kind === "gone") return result("failed", 0, "client gone (ECONNREFUSED)");
            if (r.kind === "error") return result(r.code === 8 || r.code === 0 ? "declined" : "failed", 0, `client error ${r.code}: ${r.text}`);
            if (tries >= job.retries) return result("failed", 0, `no answer from the client after ${job.retries} retransmissions`);
          }
        }
        const total = Math.floor(job.size / job.blksize) + 1;
        for (let k = 0; k < total; k++) {
          const offset = k * job.blksize;
          const len = Math.max(0, Math.min(job.blksize, job.size - offset));
          if (len > 0 && (offset < chunkStart || offset + len > chunkStart + chunkLen)) {
            chunkStart = offset;
            chunkLen = fs.readSync(file, chunk, 0, Math.min(chunk.length, job.size - offset), offset);
          }
          const wire = (k + 1) & 0xffff;
          pkt[0] = 0;
          pkt[1] = 3;
          pkt[2] = wire >> 8;
          pkt[3] = wire & 255;
          if (len > 0) chunk.copy(pkt, 4, offset - chunkStart, offset - chunkStart + len);
          for (let tries = 0; ; tries++) {
            if (!send(pktPtr, 4 + len)) return result("failed", offset, "client gone (ECONNREFUSED)");
            const r = waitAck(wire);
            if (r.kind === "ack") break;
            if (r.kind === "stopped") return result("failed", offset, "server stopping");
            if (r.kind === "gone") return result("failed", offset, "client gone (ECONNREFUSED)");
            if (r.kind === "error") return result("failed", offset, `client error ${r.code}: ${r.text}`);
            if (tries >= job.retries) return result("failed", offset, `no answer from the client after ${job.retries} retransmissions`);
          }
        }
        return result("done", job.size);
      } catch (err) {
        return result("failed", 0, String(err));
      } finally {
        if (file >= 0) fs.closeSync(file);
        S.close!(fd);
      }
    }

    self.onmessage = (e: MessageEvent) => {
      if (e.data && e.data.stop) {
        stop = new Int32Array(e.data.stop);
        return;
      }
      postMessage(run(e.data));
    };
    postMessage({ ready: true });
  })();
}

export interface LockstepPool {
  /** Runs `job` on a free worker, or returns null (none free, or the fast path is unavailable). */
  tryRun(job: LockstepJob): Promise<LockstepResult> | null;
  busy(): number;
  stop(): Promise<void>;
}

interface Slot {
  worker: Worker;
  ready: Promise<boolean>;
  busy: boolean;
  resolve: ((r: LockstepResult) => void) | null;
}

export function createLockstepPool(size: number): LockstepPool {
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  const slots: Slot[] = [];
  let unavailable = size <= 0;
  let url: string | null = null;

  function spawn(): Slot {
    url ??= URL.createObjectURL(new Blob([`(${lockstepWorker.toString()})()`], { type: "application/javascript" }));
    const worker = new Worker(url);
    (worker as unknown as { unref(): void }).unref();
    let ready!: (ok: boolean) => void;
    const slot: Slot = { worker, ready: new Promise<boolean>((r) => (ready = r)), busy: false, resolve: null };
    worker.onmessage = (e: MessageEvent) => {
      const data = e.data as { ready?: boolean } & LockstepResult;
      if (data.ready !== undefined) {
        if (!data.ready) unavailable = true;
        else worker.postMessage({ stop: stopFlag.buffer });
        ready(Boolean(data.ready));
        return;
      }
      slot.busy = false;
      const r = slot.resolve;
      slot.resolve = null;
      r?.(data);
    };
    worker.onerror = () => {
      unavailable = true;
      ready(false);
      slot.resolve?.({ id: -1, outcome: "failed", reason: "worker error", bytes: 0 });
    };
    return slot;
  }

  return {
    tryRun(job) {
      if (unavailable) return null;
      let slot = slots.find((s) => !s.busy);
      if (!slot) {
        if (slots.length >= size) return null;
        slot = spawn();
        slots.push(slot);
      }
      const s = slot;
      s.busy = true;
      return s.ready.then(
        (ok) =>
          new Promise<LockstepResult>((resolve) => {
            if (!ok) {
              s.busy = false;
              resolve({ id: job.id, outcome: "failed", reason: "fast path unavailable", bytes: -1 });
              return;
            }
            s.resolve = resolve;
            s.worker.postMessage(job);
          }),
      );
    },
    busy: () => slots.filter((s) => s.busy).length,
    async stop() {
      Atomics.store(stopFlag, 0, 1);
      const deadline = Date.now() + 2000;
      while (slots.some((s) => s.busy) && Date.now() < deadline) await Bun.sleep(20);
      for (const s of slots) s.worker.terminate();
      if (url) URL.revokeObjectURL(url);
    },
  };
}
