/**
 * @module net/tftp/server
 * A read-only TFTP server (RFC 1350) confined to one folder (`data/tftp/`), with option
 * negotiation (RFC 2347): blksize (2348), tsize and timeout (2349) and windowsize (7440).
 * Each transfer gets its own socket (its transfer id), so many clients are served at once.
 *
 * Why not the `tftp` npm package: it ignores the client's timeout option (FIELD-NOTES
 * "Network boot"), and completing it would mean patching its retransmission core; the
 * read-only server the appliance needs is small, so it is written here on `Bun.udpSocket`
 * (faster than `node:dgram` for many small datagrams, and `sendMany` sends a window at once).
 *
 * Behaviour that matters for safety and robustness:
 *  - write requests are refused (error 2); paths are relative to the root, backslashes
 *    (Windows clients) read as slashes, `..` refused, symlinks followed only when their
 *    target stays inside the root;
 *  - a duplicate or stale ACK never triggers a retransmission (no sorcerer's apprentice);
 *    only the timer does, up to `retries` times, then the transfer is dropped and logged;
 *  - with a window, an ACK inside the window (the client saw a gap) resumes after it;
 *  - each transfer's socket is connected to its client: datagrams from anyone else are
 *    dropped by the kernel and never disturb the transfer (RFC 1350 would also have us send
 *    them error 5; the connected socket is faster per block and a stranger gets nothing).
 */
import { closeSync, fstatSync, openSync, readSync, realpathSync, statSync } from "node:fs";
import { isIPv4 } from "node:net";
import { join, sep } from "node:path";
import { createLockstepPool } from "./lockstep.ts";

export const OP = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;
export const ERR = { UNDEFINED: 0, NOT_FOUND: 1, ACCESS: 2, DISK_FULL: 3, ILLEGAL: 4, UNKNOWN_TID: 5, EXISTS: 6, NO_USER: 7, OPTIONS: 8 } as const;

export interface TftpRequest {
  op: number;
  filename: string;
  mode: string;
  /** Options as sent, names lowercased; unknown ones included (and ignored later). */
  options: Map<string, string>;
}

export class TftpError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = "TftpError";
  }
}

/** Parses an RRQ/WRQ; throws `TftpError(ILLEGAL)` on anything malformed. */
export function parseRequest(b: Uint8Array): TftpRequest {
  if (b.length < 4 || b.length > 1500) throw new TftpError(ERR.ILLEGAL, `bad request size ${b.length}`);
  const op = (b[0]! << 8) | b[1]!;
  if (op !== OP.RRQ && op !== OP.WRQ) throw new TftpError(ERR.ILLEGAL, `not a request (opcode ${op})`);
  const fields: string[] = [];
  let start = 2;
  for (let i = 2; i < b.length; i++) {
    if (b[i] === 0) {
      fields.push(new TextDecoder("latin1").decode(b.subarray(start, i)));
      start = i + 1;
    }
  }
  if (start !== b.length) throw new TftpError(ERR.ILLEGAL, "request not NUL-terminated");
  if (fields.length < 2) throw new TftpError(ERR.ILLEGAL, "request without file name or mode");
  if (fields.length % 2 !== 0) throw new TftpError(ERR.ILLEGAL, "option without value");
  const [filename, mode] = fields as [string, string];
  if (filename === "") throw new TftpError(ERR.ILLEGAL, "empty file name");
  const options = new Map<string, string>();
  for (let i = 2; i < fields.length; i += 2) options.set(fields[i]!.toLowerCase(), fields[i + 1]!);
  return { op, filename, mode: mode.toLowerCase(), options };
}

export interface Negotiated {
  blksize: number;
  timeoutMs: number;
  windowsize: number;
  /** Options to acknowledge in the OACK (empty: no OACK, data starts at once). */
  ack: Map<string, string>;
}

/** Which options we accept and their values (RFC 2347: unknown or bad ones are left out of the OACK). */
export function negotiate(options: Map<string, string>, size: number, defaults: { timeoutMs: number; maxBlksize: number; maxWindow: number }): Negotiated {
  const out: Negotiated = { blksize: 512, timeoutMs: defaults.timeoutMs, windowsize: 1, ack: new Map() };
  const int = (v: string) => (/^\d{1,6}$/.test(v) ? Number(v) : NaN);
  for (const [name, raw] of options) {
    const v = int(raw);
    if (name === "blksize" && v >= 8) {
      out.blksize = Math.min(v, 65464, defaults.maxBlksize);
      out.ack.set("blksize", String(out.blksize));
    } else if (name === "tsize" && v >= 0) {
      out.ack.set("tsize", String(size));
    } else if (name === "timeout" && v >= 1 && v <= 255) {
      out.timeoutMs = v * 1000;
      out.ack.set("timeout", String(v));
    } else if (name === "windowsize" && v >= 1 && v <= 65535) {
      out.windowsize = Math.min(v, defaults.maxWindow);
      out.ack.set("windowsize", String(out.windowsize));
    }
  }
  return out;
}

/**
 * The file a request names, inside `root` (already resolved with realpath), or a TftpError:
 * NOT_FOUND for missing files and folders, ACCESS for anything that escapes the root.
 */
export function resolveInRoot(root: string, filename: string): string {
  if (filename.length > 255 || /[\0-\x1f]/.test(filename)) throw new TftpError(ERR.ACCESS, "bad file name");
  const parts = filename.replaceAll("\\", "/").split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0) throw new TftpError(ERR.NOT_FOUND, "no file name");
  if (parts.some((p) => p === "..")) throw new TftpError(ERR.ACCESS, "path outside the TFTP root");
  const candidate = join(root, ...parts);
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    throw new TftpError(ERR.NOT_FOUND, "file not found");
  }
  if (!real.startsWith(root + sep)) throw new TftpError(ERR.ACCESS, "path outside the TFTP root");
  if (!statSync(real).isFile()) throw new TftpError(ERR.NOT_FOUND, "not a file");
  return real;
}

export function errorPacket(code: number, message: string): Uint8Array {
  const msg = new TextEncoder().encode(message.slice(0, 200));
  const out = new Uint8Array(5 + msg.length);
  out[1] = OP.ERROR;
  out[3] = code;
  out.set(msg, 4);
  return out;
}

function oackPacket(ack: Map<string, string>): Uint8Array {
  const parts: number[] = [0, OP.OACK];
  for (const [k, v] of ack) parts.push(...new TextEncoder().encode(k), 0, ...new TextEncoder().encode(v), 0);
  return Uint8Array.from(parts);
}

export interface TransferEvent {
  client: string;
  file: string;
  /** declined: the client stopped after the OACK (a size probe, or options it refused). */
  outcome: "done" | "failed" | "refused" | "declined";
  reason?: string;
  bytes: number;
  ms: number;
  blksize?: number;
  windowsize?: number;
  /** Which path served it: a worker thread (one block at a time) or the event loop. */
  engine?: "worker" | "event-loop";
}

export interface TftpOptions {
  root: string;
  bind?: string;
  port?: number;
  /** Retransmission timeout when the client names none (ms). */
  timeoutMs?: number;
  retries?: number;
  maxBlksize?: number;
  maxWindow?: number;
  /** Transfers at once; more are refused with a "busy" error. */
  maxTransfers?: number;
  /**
   * Worker threads for transfers one block at a time (./lockstep.ts); 0 keeps every transfer on
   * the event loop. Default 4.
   */
  lockstepWorkers?: number;
  onEvent?: (e: TransferEvent) => void;
  now?: () => number;
}

export interface TftpServer {
  port: number;
  active(): number;
  stop(): Promise<void>;
}

type Udp = Bun.udp.Socket<"buffer">;
type ConnectedUdp = Bun.udp.ConnectedSocket<"buffer">;

const CHUNK = 256 * 1024;

/** Reads a file by block through a small read-ahead buffer (no whole-file load: files are images too). */
class BlockReader {
  #fd: number;
  #buf = Buffer.allocUnsafe(CHUNK);
  #start = 0;
  #len = 0;
  constructor(
    fd: number,
    readonly size: number,
  ) {
    this.#fd = fd;
  }
  read(offset: number, length: number): Buffer {
    const want = Math.min(length, this.size - offset);
    if (want <= 0) return Buffer.alloc(0);
    if (offset < this.#start || offset + want > this.#start + this.#len) {
      const chunk = Math.max(CHUNK, want);
      if (this.#buf.length < chunk) this.#buf = Buffer.allocUnsafe(chunk);
      this.#start = offset;
      this.#len = readSync(this.#fd, this.#buf, 0, Math.min(chunk, this.size - offset), offset);
    }
    return this.#buf.subarray(offset - this.#start, offset - this.#start + want);
  }
  close() {
    closeSync(this.#fd);
  }
}

function netascii(data: Buffer): Buffer {
  const out: number[] = [];
  for (const c of data) {
    if (c === 0x0a) out.push(0x0d, 0x0a);
    else if (c === 0x0d) out.push(0x0d, 0x00);
    else out.push(c);
  }
  return Buffer.from(out);
}

class MemoryReader {
  constructor(readonly data: Buffer) {}
  get size() {
    return this.data.length;
  }
  read(offset: number, length: number): Buffer {
    return this.data.subarray(offset, offset + length);
  }
  close() {}
}

export async function startTftp(opts: TftpOptions): Promise<TftpServer> {
  const root = realpathSync(opts.root);
  const now = opts.now ?? (() => performance.now());
  const retries = opts.retries ?? 5;
  const defaults = { timeoutMs: opts.timeoutMs ?? 2000, maxBlksize: opts.maxBlksize ?? 65464, maxWindow: opts.maxWindow ?? 64 };
  const maxTransfers = opts.maxTransfers ?? 512;
  const pool = createLockstepPool(opts.lockstepWorkers ?? 4);
  let stopping = false;
  let fastBusy = 0;
  let jobId = 0;
  const transfers = new Set<{ abort(reason: string): void }>();
  const emit = (e: TransferEvent) => {
    try {
      opts.onEvent?.(e);
    } catch {
      // logging never stops a transfer
    }
  };

  async function serve(packet: Uint8Array, port: number, address: string, main: Udp): Promise<void> {
    const client = `${address}:${port}`;
    let req: TftpRequest;
    try {
      req = parseRequest(packet);
    } catch (err) {
      const e = err as TftpError;
      main.send(errorPacket(e.code ?? ERR.ILLEGAL, e.message), port, address);
      emit({ client, file: "", outcome: "refused", reason: e.message, bytes: 0, ms: 0 });
      return;
    }
    const refuse = (code: number, reason: string) => {
      main.send(errorPacket(code, reason), port, address);
      emit({ client, file: req.filename, outcome: "refused", reason, bytes: 0, ms: 0 });
    };
    if (req.op === OP.WRQ) return refuse(ERR.ACCESS, "read-only server: writes are refused");
    if (req.mode !== "octet" && req.mode !== "netascii") return refuse(ERR.ILLEGAL, `unsupported mode ${req.mode}`);
    if (transfers.size + fastBusy >= maxTransfers) return refuse(ERR.UNDEFINED, "server busy, try again");
    let path: string;
    try {
      path = resolveInRoot(root, req.filename);
    } catch (err) {
      const e = err as TftpError;
      return refuse(e instanceof TftpError ? e.code : ERR.UNDEFINED, e.message);
    }
    let reader: BlockReader | MemoryReader;
    try {
      const fd = openSync(path, "r");
      const size = fstatSync(fd).size;
      if (req.mode === "netascii") {
        if (size > 16 << 20) {
          closeSync(fd);
          return refuse(ERR.ILLEGAL, "netascii is limited to 16 MiB files: use octet mode");
        }
        const raw = Buffer.allocUnsafe(size);
        readSync(fd, raw, 0, size, 0);
        closeSync(fd);
        reader = new MemoryReader(netascii(raw));
      } else reader = new BlockReader(fd, size);
    } catch (err) {
      return refuse(ERR.NOT_FOUND, (err as Error).message);
    }
    const neg = negotiate(req.options, reader.size, defaults);
    // One block at a time, in octet mode: a worker with blocking calls, when one is free.
    if (neg.windowsize === 1 && reader instanceof BlockReader && !stopping) {
      const started = now();
      const job = { id: ++jobId, bind: opts.bind && opts.bind !== "::" ? opts.bind : "0.0.0.0", ip: address, port, path, size: reader.size, blksize: neg.blksize, timeoutMs: neg.timeoutMs, retries, oack: neg.ack.size ? oackPacket(neg.ack) : null };
      const fast = isIPv4(address) ? pool.tryRun(job) : null;
      if (fast) {
        reader.close();
        fastBusy++;
        const r = await fast.finally(() => fastBusy--);
        if (r.bytes !== -1) {
          emit({ client, file: req.filename, outcome: r.outcome, reason: r.reason, bytes: r.bytes, ms: Math.round(now() - started), blksize: neg.blksize, windowsize: 1, engine: "worker" });
          return;
        }
        // The fast path turned out to be unavailable: the event loop serves it.
        const fd = openSync(path, "r");
        reader = new BlockReader(fd, fstatSync(fd).size);
      }
    }
    // The number of DATA packets: a file whose size is a multiple of blksize ends with an empty one.
    const total = Math.floor(reader.size / neg.blksize) + 1;
    const started = now();
    let sock: ConnectedUdp;
    let base = 0; // first block (0-based) not yet acknowledged
    let next = 0; // next block to send
    let waitingOack = neg.ack.size > 0;
    let tries = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    /** When the last window went out: the one timer checks it rather than being re-armed per block. */
    let sentAt = 0;
    let finished = false;
    // Packet buffers reused per window slot: a send copies the bytes into the kernel at once.
    const slots: Buffer[] = [];
    const dataPacket = (k: number, slot: number): Uint8Array => {
      const body = reader.read(k * neg.blksize, neg.blksize);
      let out = slots[slot];
      if (!out) slots[slot] = out = Buffer.allocUnsafe(4 + neg.blksize);
      out[0] = 0;
      out[1] = OP.DATA;
      out[2] = ((k + 1) >> 8) & 0xff;
      out[3] = (k + 1) & 0xff;
      body.copy(out, 4);
      return body.length === neg.blksize ? out : out.subarray(0, 4 + body.length);
    };
    const finish = (outcome: "done" | "failed" | "declined", reason?: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      transfers.delete(handle);
      try {
        reader.close();
      } catch {
        // already closed
      }
      sock?.close();
      const bytes = outcome === "done" ? reader.size : Math.min(base * neg.blksize, reader.size);
      emit({ client, file: req.filename, outcome, reason, bytes, ms: Math.round(now() - started), blksize: neg.blksize, windowsize: neg.windowsize, engine: "event-loop" });
    };
    const handle = { abort: (reason: string) => finish("failed", reason) };
    const arm = () => {
      sentAt = now();
      if (timer === undefined) timer = setTimeout(check, neg.timeoutMs);
    };
    const check = () => {
      timer = undefined;
      if (finished) return;
      const waited = now() - sentAt;
      if (waited >= neg.timeoutMs - 1) onTimeout();
      else timer = setTimeout(check, neg.timeoutMs - waited);
    };
    const sendWindow = () => {
      if (neg.windowsize === 1) {
        if (next < total && next < base + 1) sock.send(dataPacket(next++, 0));
      } else {
        const batch: Uint8Array[] = [];
        for (let slot = 0; next < total && next < base + neg.windowsize; slot++) batch.push(dataPacket(next++, slot));
        if (batch.length) sock.sendMany(batch);
      }
      arm();
    };
    const onTimeout = () => {
      if (finished) return;
      if (++tries > retries) return finish("failed", `no answer from the client after ${retries} retransmissions`);
      if (waitingOack) {
        sock.send(oackPacket(neg.ack));
        arm();
      } else {
        next = base;
        sendWindow();
      }
    };
    const onAck = (wire: number) => {
      if (waitingOack) {
        if (wire !== 0) return;
        waitingOack = false;
        tries = 0;
        sendWindow();
        return;
      }
      // Which sent block does this ACK name? Its offset from `base`, modulo the 16-bit wrap.
      const off = (wire - ((base + 1) & 0xffff) + 0x10000) & 0xffff;
      if (off >= next - base) return; // duplicate or stale: the timer alone retransmits
      base += off + 1;
      tries = 0;
      if (base >= total) return finish("done");
      if (base < next) next = base; // the client saw a gap inside the window: resume after its ACK
      sendWindow();
    };
    try {
      // A socket connected to the client: the kernel drops datagrams from anyone else (RFC 1350:
      // a stranger must not disturb the transfer), and each send skips address parsing.
      sock = await Bun.udpSocket({
        hostname: opts.bind ?? "0.0.0.0",
        port: 0,
        connect: { hostname: address, port },
        socket: {
          data(_s, buf) {
            if (buf.length < 4) return;
            const op = (buf[0]! << 8) | buf[1]!;
            if (op === OP.ACK) onAck((buf[2]! << 8) | buf[3]!);
            else if (op === OP.ERROR) {
              const code = (buf[2]! << 8) | buf[3]!;
              const why = `client error ${code}: ${new TextDecoder().decode(buf.subarray(4)).replace(/\0.*$/s, "").slice(0, 100)}`;
              // UEFI firmwares ask once for the size only (tsize), then abort after the OACK: not a failure.
              if (waitingOack && (code === ERR.OPTIONS || code === ERR.UNDEFINED)) finish("declined", why);
              else finish("failed", why);
            }
          },
          // ICMP port unreachable comes back as ECONNREFUSED: the client went away.
          // (Bun 1.4 passes the error first, although its types say socket first: read either.)
          error(a: unknown, b?: unknown) {
            const err = (b ?? a) as { code?: string; message?: string } | undefined;
            finish("failed", `client gone (${err?.code ?? err?.message ?? "socket error"})`);
          },
        },
      });
    } catch (err) {
      reader.close();
      emit({ client, file: req.filename, outcome: "failed", reason: (err as Error).message, bytes: 0, ms: 0 });
      return;
    }
    transfers.add(handle);
    if (waitingOack) {
      sock.send(oackPacket(neg.ack));
      arm();
    } else sendWindow();
  }

  const main = await Bun.udpSocket({
    hostname: opts.bind ?? "0.0.0.0",
    port: opts.port ?? 69,
    socket: {
      data(s, buf, port, address) {
        void serve(new Uint8Array(buf), port, address, s).catch((err) => emit({ client: `${address}:${port}`, file: "", outcome: "failed", reason: String(err), bytes: 0, ms: 0 }));
      },
      error() {
        // an ICMP error for an earlier error packet: nothing to do
      },
    },
  });

  return {
    port: main.port,
    active: () => transfers.size + fastBusy,
    async stop() {
      stopping = true;
      for (const t of [...transfers]) t.abort("server stopping");
      await pool.stop();
      main.close();
    },
  };
}
