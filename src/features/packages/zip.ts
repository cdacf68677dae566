/**
 * @module packages/zip
 * Reads an uploaded zip archive (already streamed to a temporary file) into the blob store,
 * entry by entry, with `unzipper`. Refused before a byte is extracted, from the central
 * directory: paths escaping the package folder, symbolic links, encrypted entries,
 * duplicate paths, too many entries, declared sizes over the limits or a compression ratio
 * no real payload has. Refused while extracting: an entry inflating past its declared size
 * or the total limit (the central directory can lie). On refusal the blobs this archive
 * created are removed: nothing is left behind.
 */
import { createReadStream, statSync } from "node:fs";
import type { Readable } from "node:stream";
import type unzipper from "unzipper";
// The central-directory reader alone: unzipper's index also loads its S3 and HTTP sources,
// which pull in optional modules a compiled binary cannot resolve.
// @ts-expect-error no type declarations for the inner module
import openDirectory from "unzipper/lib/Open/directory.js";
import type { BlobBatch } from "./blobs.ts";
import { TooBig } from "./blobs.ts";
import { cleanPackagePath } from "./paths.ts";

export interface ZipLimits {
  maxEntries: number;
  /** Sum of the uncompressed sizes. */
  maxTotalBytes: number;
  maxEntryBytes: number;
  /** Uncompressed / compressed, per entry larger than 1 MiB. */
  maxRatio: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 10_000, maxTotalBytes: 4 * 1024 ** 3, maxEntryBytes: 4 * 1024 ** 3, maxRatio: 200 };

export type ArchiveErrorCode = "not_zip" | "unsafe_path" | "symlink" | "encrypted" | "duplicate" | "too_many_entries" | "too_large" | "bomb" | "corrupt";

export class ArchiveError extends Error {
  constructor(
    readonly code: ArchiveErrorCode,
    readonly entry: string,
    message: string,
  ) {
    super(message);
    this.name = "ArchiveError";
  }
}

export interface ExtractedFile {
  path: string;
  sha256: string;
  size: number;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** Reads `zipPath` into `batch`'s store; on any failure rolls the batch back and throws ArchiveError. */
export async function extractZip(zipPath: string, batch: BlobBatch, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<ExtractedFile[]> {
  let dir: unzipper.CentralDirectory;
  try {
    const source = {
      size: async () => statSync(zipPath).size,
      stream: (start: number, length?: number): Readable => createReadStream(zipPath, { start, end: length ? start + length : undefined }),
    };
    dir = await (openDirectory as (src: typeof source, opts?: unknown) => Promise<unzipper.CentralDirectory>)(source, {});
  } catch (err) {
    throw new ArchiveError("not_zip", "", `not a zip archive (${(err as Error).message.slice(0, 120)})`);
  }
  const entries = dir.files;
  if (entries.length > limits.maxEntries) throw new ArchiveError("too_many_entries", "", `more than ${limits.maxEntries} entries`);
  const seen = new Set<string>();
  const plan: { file: unzipper.File; path: string }[] = [];
  let declared = 0;
  for (const f of entries) {
    const name = f.path;
    const unixMode = (f.externalFileAttributes >>> 16) & 0xffff;
    if ((unixMode & S_IFMT) === S_IFLNK) throw new ArchiveError("symlink", name, `${name}: symbolic links are refused`);
    if (f.flags & 0x1) throw new ArchiveError("encrypted", name, `${name}: encrypted entries are refused`);
    const clean = cleanPackagePath(name);
    if (clean === null) throw new ArchiveError("unsafe_path", name.slice(0, 200), `${name.slice(0, 200)}: the path would leave the package folder or is not portable`);
    if (f.type === "Directory" || name.endsWith("/")) continue;
    const key = clean.toLowerCase();
    if (seen.has(key)) throw new ArchiveError("duplicate", clean, `${clean}: the archive holds this path twice`);
    seen.add(key);
    if (f.uncompressedSize > limits.maxEntryBytes) throw new ArchiveError("too_large", clean, `${clean}: larger than ${limits.maxEntryBytes} bytes`);
    declared += f.uncompressedSize;
    if (declared > limits.maxTotalBytes) throw new ArchiveError("too_large", clean, `the archive expands past ${limits.maxTotalBytes} bytes`);
    if (f.uncompressedSize > 1 << 20 && f.uncompressedSize / Math.max(1, f.compressedSize) > limits.maxRatio) {
      throw new ArchiveError("bomb", clean, `${clean}: compression ratio over ${limits.maxRatio}: refused as a zip bomb`);
    }
    plan.push({ file: f, path: clean });
  }
  const out: ExtractedFile[] = [];
  let total = 0;
  try {
    for (const { file, path } of plan) {
      // Whatever the header said, stop at the declared size (+0: an honest entry fits exactly)
      // and at what is left of the total.
      const cap = Math.min(file.uncompressedSize, limits.maxTotalBytes - total);
      let blob;
      try {
        blob = await batch.put(file.stream(), cap);
      } catch (err) {
        if (err instanceof TooBig) throw new ArchiveError("bomb", path, `${path}: inflates past its declared size`);
        throw new ArchiveError("corrupt", path, `${path}: ${(err as Error).message.slice(0, 160)}`);
      }
      total += blob.size;
      out.push({ path, sha256: blob.sha256, size: blob.size });
    }
  } catch (err) {
    batch.rollback();
    throw err;
  }
  return out;
}
