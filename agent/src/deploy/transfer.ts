/**
 * @module agent/deploy/transfer
 * Pulls a deployment's files from the appliance over HTTPS with the agent's own
 * credentials (HTTP basic auth, its JID and password; only the pinned CA is trusted):
 * `GET /api/v1/agents/files/{sha256}`. A transfer cut short resumes where it stopped
 * (HTTP Range on the `.part` file), the bytes are checked against the SHA-256 they are
 * named by, and the package's bandwidth limit paces the reading.
 */
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";

export interface Remote {
  /** The appliance's origin, https://host:port. */
  server: string;
  jid: string;
  password: string;
  ca: string;
}

export class TransferError extends Error {
  constructor(
    readonly reason: "download" | "checksum" | "permission",
    message: string,
  ) {
    super(message);
  }
}

export const authHeader = (r: Remote) => `Basic ${Buffer.from(`${r.jid}:${r.password}`).toString("base64")}`;

/** GET a small JSON or text document (the plan); checked by the caller. */
export async function getText(r: Remote, path: string, signal: AbortSignal): Promise<string> {
  let res: Response;
  try {
    res = await fetch(new URL(path, r.server), { headers: { authorization: authHeader(r) }, tls: { ca: r.ca }, signal: AbortSignal.any([signal, AbortSignal.timeout(60_000)]) });
  } catch (e) {
    throw new TransferError("download", `cannot reach ${r.server}: ${(e as Error).message}`);
  }
  const text = await res.text();
  if (res.status === 401 || res.status === 403) throw new TransferError("permission", `HTTP ${res.status} for ${path}: ${text.slice(0, 200)}`);
  if (!res.ok) throw new TransferError("download", `HTTP ${res.status} for ${path}: ${text.slice(0, 200)}`);
  return text;
}

/** Sleeps just long enough that `bytes` since `startedAt` stay under `kbps`. */
export class Pacer {
  #bytes = 0;
  readonly #started = performance.now();
  constructor(private readonly kbps: number) {}
  async take(n: number, signal: AbortSignal): Promise<void> {
    if (this.kbps <= 0) return;
    this.#bytes += n;
    const dueMs = (this.#bytes * 8) / this.kbps; // kbps = bits per millisecond
    const ahead = dueMs - (performance.now() - this.#started);
    if (ahead > 5) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, ahead);
        signal.addEventListener("abort", () => (clearTimeout(t), reject(signal.reason)), { once: true });
      });
    }
  }
}

async function hashFile(path: string, hasher: Bun.CryptoHasher): Promise<void> {
  for await (const chunk of createReadStream(path)) hasher.update(chunk as Buffer);
}

/**
 * Fetches the file `sha256` (of `size` bytes) to `dest`, resuming a `.part` left by an
 * earlier try. Resolves once `dest` holds exactly those bytes; throws TransferError.
 */
export async function fetchFile(
  r: Remote,
  f: { sha256: string; size: number; dest: string; kbps: number },
  signal: AbortSignal,
  onBytes: (n: number) => void = () => {},
): Promise<void> {
  const done = await stat(f.dest).catch(() => null);
  if (done?.size === f.size) {
    const h = new Bun.CryptoHasher("sha256");
    await hashFile(f.dest, h);
    if (h.digest("hex") === f.sha256) return onBytes(f.size);
    await rm(f.dest, { force: true });
  }
  await mkdir(dirname(f.dest), { recursive: true });
  const part = `${f.dest}.part`;
  let have = (await stat(part).catch(() => null))?.size ?? 0;
  if (have > f.size) {
    await rm(part, { force: true });
    have = 0;
  }
  const headers: Record<string, string> = { authorization: authHeader(r) };
  if (have > 0) headers.range = `bytes=${have}-`;
  let res: Response;
  try {
    res = await fetch(new URL(`/api/v1/agents/files/${f.sha256}`, r.server), { headers, tls: { ca: r.ca }, signal });
  } catch (e) {
    throw new TransferError("download", `cannot reach ${r.server}: ${(e as Error).message}`);
  }
  if (res.status === 401 || res.status === 403) throw new TransferError("permission", `the appliance refused file ${f.sha256.slice(0, 12)}…: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  if (res.status === 416) {
    await rm(part, { force: true });
    throw new TransferError("download", `the appliance refused to resume file ${f.sha256.slice(0, 12)}… (HTTP 416); starting over`);
  }
  if (res.status !== 200 && res.status !== 206) throw new TransferError("download", `HTTP ${res.status} for file ${f.sha256.slice(0, 12)}…: ${(await res.text()).slice(0, 200)}`);
  const hasher = new Bun.CryptoHasher("sha256");
  if (res.status === 206 && have > 0) {
    await hashFile(part, hasher);
    onBytes(have);
  } else {
    have = 0;
  }
  const fh = await open(part, have > 0 ? "a" : "w");
  const pacer = new Pacer(f.kbps);
  let got = have;
  try {
    const reader = res.body!.getReader();
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) break;
      got += value.byteLength;
      if (got > f.size) throw new TransferError("checksum", `file ${f.sha256.slice(0, 12)}… is longer than the ${f.size} bytes announced`);
      hasher.update(value);
      await fh.write(value);
      onBytes(value.byteLength);
      await pacer.take(value.byteLength, signal);
    }
  } catch (e) {
    if (e instanceof TransferError) {
      await fh.close();
      await rm(part, { force: true });
      throw e;
    }
    await fh.close();
    throw new TransferError("download", `transfer of ${f.sha256.slice(0, 12)}… cut at ${got} bytes: ${(e as Error).message}`);
  }
  await fh.close();
  if (got !== f.size) throw new TransferError("download", `file ${f.sha256.slice(0, 12)}… ended at ${got} of ${f.size} bytes`);
  const digest = hasher.digest("hex");
  if (digest !== f.sha256) {
    await rm(part, { force: true });
    throw new TransferError("checksum", `file ${f.sha256.slice(0, 12)}… arrived with SHA-256 ${digest.slice(0, 12)}…: deleted`);
  }
  await rename(part, f.dest);
}
