/**
 * @module packages/blobs
 * Payload files stored once, addressed by their SHA-256: `<root>/blobs/ab/abcdef…`. A write
 * streams into a temporary file while hashing and counting, then renames it into place (a
 * blob that exists already is kept and the temporary file dropped), so a reader never sees
 * a partial blob and the same bytes are stored once whatever the number of versions using
 * them. Every write that may fail half-way goes through a `BlobBatch`, which removes on
 * `rollback()` the blobs it created and nothing else.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";

export const SHA256_RE = /^[0-9a-f]{64}$/;

export class TooBig extends Error {
  constructor(readonly limit: number) {
    super(`larger than ${limit} bytes`);
  }
}

export interface StoredBlob {
  sha256: string;
  size: number;
  /** False when the same bytes were stored already. */
  created: boolean;
}

export class BlobStore {
  readonly dir: string;
  readonly tmp: string;

  #ready = false;

  constructor(readonly root: string) {
    this.dir = join(root, "blobs");
    this.tmp = join(root, "tmp");
  }

  /** Folders are made on first write: a store never written to leaves nothing on disk. */
  #ensure(): void {
    if (this.#ready) return;
    mkdirSync(this.dir, { recursive: true });
    mkdirSync(this.tmp, { recursive: true });
    this.#ready = true;
  }

  path(sha256: string): string {
    if (!SHA256_RE.test(sha256)) throw new Error("not a sha256");
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  has(sha256: string): boolean {
    return SHA256_RE.test(sha256) && existsSync(this.path(sha256));
  }

  size(sha256: string): number | null {
    try {
      return statSync(this.path(sha256)).size;
    } catch {
      return null;
    }
  }

  /** A fresh temporary file path under the store (same file system: rename is atomic). */
  tempPath(suffix = ""): string {
    this.#ensure();
    return join(this.tmp, `${Date.now().toString(36)}-${randomBytes(8).toString("hex")}${suffix}`);
  }

  /** Streams `source` into the store, refusing past `maxBytes`. */
  async put(source: Readable | AsyncIterable<Uint8Array>, maxBytes = Number.MAX_SAFE_INTEGER): Promise<StoredBlob> {
    const tmp = this.tempPath();
    const hash = createHash("sha256");
    let size = 0;
    const out = createWriteStream(tmp, { flags: "wx", mode: 0o640 });
    const closed = new Promise<void>((resolve, reject) => {
      out.on("close", resolve);
      out.on("error", reject);
    });
    try {
      for await (const chunk of source as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > maxBytes) throw new TooBig(maxBytes);
        hash.update(chunk);
        if (!out.write(chunk)) await new Promise((r) => out.once("drain", r));
      }
      out.end();
      await closed;
    } catch (err) {
      out.destroy();
      await closed.catch(() => {});
      rmSync(tmp, { force: true });
      if (typeof (source as Readable).destroy === "function") (source as Readable).destroy();
      throw err;
    }
    const sha256 = hash.digest("hex");
    const dest = this.path(sha256);
    if (existsSync(dest)) {
      rmSync(tmp, { force: true });
      return { sha256, size, created: false };
    }
    mkdirSync(join(this.dir, sha256.slice(0, 2)), { recursive: true });
    renameSync(tmp, dest);
    return { sha256, size, created: true };
  }

  putFile(path: string, maxBytes?: number): Promise<StoredBlob> {
    return this.put(createReadStream(path), maxBytes);
  }

  read(sha256: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.path(sha256), range);
  }

  /** Re-hashes a blob: true when its bytes still match its name. */
  async verify(sha256: string): Promise<boolean> {
    if (!this.has(sha256)) return false;
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(this.path(sha256))) hash.update(chunk as Buffer);
    return hash.digest("hex") === sha256;
  }

  remove(sha256: string): void {
    if (SHA256_RE.test(sha256)) rmSync(this.path(sha256), { force: true });
  }

  /** Removes every blob not in `keep`, and stale temporary files; returns how many blobs went. */
  collect(keep: ReadonlySet<string>, tmpOlderThanMs = 3600_000, now = Date.now()): number {
    this.#ensure();
    let removed = 0;
    for (const d of readdirSync(this.dir)) {
      for (const f of readdirSync(join(this.dir, d))) {
        if (!keep.has(f)) (rmSync(join(this.dir, d, f), { force: true }), removed++);
      }
    }
    for (const f of readdirSync(this.tmp)) {
      const p = join(this.tmp, f);
      try {
        if (now - statSync(p).mtimeMs > tmpOlderThanMs) rmSync(p, { force: true, recursive: true });
      } catch {
        /* gone already */
      }
    }
    return removed;
  }

  batch(): BlobBatch {
    return new BlobBatch(this);
  }
}

/** The blobs written by one operation, removable as a whole when the operation fails. */
export class BlobBatch {
  readonly created = new Set<string>();
  constructor(readonly store: BlobStore) {}

  async put(source: Readable | AsyncIterable<Uint8Array>, maxBytes?: number): Promise<StoredBlob> {
    const b = await this.store.put(source, maxBytes);
    if (b.created) this.created.add(b.sha256);
    return b;
  }

  /** Removes what this batch created; `stillUsed` protects blobs another version took meanwhile. */
  rollback(stillUsed: (sha256: string) => boolean = () => false): void {
    for (const sha of this.created) if (!stillUsed(sha)) this.store.remove(sha);
    this.created.clear();
  }
}
