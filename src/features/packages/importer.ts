/**
 * @module packages/importer
 * Turns a set of files (from a zip or a server folder) into a package: when they hold our
 * `medulla-package.json`, or Medulla's `conf.json` + `xmppdeploy.json`, the descriptor comes
 * from there (a single top folder is looked through, as zips are often made); the other
 * files are the payload. Also reads a server folder into the blob store: symbolic links and
 * paths that would not be portable are refused, sizes are bounded.
 */
import { lstatSync, readdirSync, realpathSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { BlobBatch, BlobStore } from "./blobs.ts";
import { DESCRIPTOR_FILE } from "./descriptor.ts";
import { convertMedulla, type ConvertOptions, type ImportWarning } from "./medulla.ts";
import { cleanPackagePath } from "./paths.ts";
import type { PackageFile } from "./service.ts";

export class ImportError extends Error {
  constructor(
    readonly code: "not_package" | "bad_json" | "bad_directory" | "symlink" | "too_large" | "unsafe_path",
    message: string,
    readonly params: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface Detected {
  kind: "ours" | "medulla" | "none";
  /** The descriptor as found (ours) or converted (Medulla); validated by the caller. */
  descriptor: unknown;
  warnings: ImportWarning[];
  /** The payload: every file but the descriptor files, paths relative to the package root. */
  files: PackageFile[];
  /** Medulla's package id, when there was one. */
  medullaId?: string;
}

const MAX_JSON = 2 * 1024 * 1024;

async function readJson(store: BlobStore, f: PackageFile): Promise<unknown> {
  if (f.size > MAX_JSON) throw new ImportError("bad_json", `${f.path} is too large`, { file: f.path });
  const text = await Bun.file(store.path(f.sha256)).text();
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch {
    throw new ImportError("bad_json", `${f.path} is not valid JSON`, { file: f.path });
  }
}

/** Looks for a descriptor among `files`; strips a single top folder. */
export async function detectPackage(files: PackageFile[], store: BlobStore, opts: ConvertOptions = {}): Promise<Detected> {
  let list = files;
  const tops = new Set(list.map((f) => (f.path.includes("/") ? f.path.split("/")[0] : "")));
  const has = (name: string) => list.some((f) => f.path === name);
  if (tops.size === 1 && !tops.has("") && !has(DESCRIPTOR_FILE)) {
    const top = [...tops][0]!;
    const inner = list.map((f) => ({ ...f, path: f.path.slice(top.length + 1) }));
    if (inner.some((f) => f.path === DESCRIPTOR_FILE || f.path === "conf.json" || f.path === "xmppdeploy.json")) list = inner;
  }
  const get = (name: string) => list.find((f) => f.path === name);
  const ours = get(DESCRIPTOR_FILE);
  if (ours) {
    return { kind: "ours", descriptor: await readJson(store, ours), warnings: [], files: list.filter((f) => f !== ours) };
  }
  const deploy = get("xmppdeploy.json");
  const conf = get("conf.json");
  if (deploy) {
    const confJson = conf ? await readJson(store, conf) : null;
    const deployJson = await readJson(store, deploy);
    const r = convertMedulla(confJson, deployJson, opts);
    const id = confJson && typeof confJson === "object" && !Array.isArray(confJson) ? (confJson as Record<string, unknown>).id : undefined;
    return { kind: "medulla", descriptor: r.descriptor, warnings: r.warnings, files: list.filter((f) => f !== deploy && f !== conf), medullaId: typeof id === "string" ? id : undefined };
  }
  return { kind: "none", descriptor: null, warnings: [], files: list };
}

export interface DirectoryLimits {
  maxFiles: number;
  maxTotalBytes: number;
}

/** The folders directly under `root` (the sources directory), sorted. */
export function listSourceDirectories(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith("."))
      .map((d) => d.name)
      .sort((a, b) => a.localeCompare(b));
  } catch {
    return [];
  }
}

/** Reads `root/name` recursively into the store; refuses symlinks and anything outside root. */
export async function readDirectory(root: string, name: string, batch: BlobBatch, limits: DirectoryLimits = { maxFiles: 10_000, maxTotalBytes: 8 * 1024 ** 3 }): Promise<PackageFile[]> {
  if (!/^[^/\\\0]{1,255}$/.test(name) || name === "." || name === "..") throw new ImportError("bad_directory", "not a folder of the sources directory");
  let realRoot: string;
  let dir: string;
  try {
    realRoot = realpathSync(root);
    dir = join(realRoot, name);
    const st = lstatSync(dir);
    if (st.isSymbolicLink()) throw new ImportError("symlink", `${name} is a symbolic link`);
    if (!st.isDirectory()) throw new ImportError("bad_directory", `${name} is not a folder`);
  } catch (err) {
    if (err instanceof ImportError) throw err;
    throw new ImportError("bad_directory", `${name} cannot be read`);
  }
  const out: PackageFile[] = [];
  let total = 0;
  const walk = async (d: string, depth: number) => {
    if (depth > 32) throw new ImportError("unsafe_path", "folders nested too deep");
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      const rel = relative(dir, full).split(sep).join("/");
      if (e.isSymbolicLink()) throw new ImportError("symlink", `${rel} is a symbolic link: refused`);
      if (e.isDirectory()) {
        await walk(full, depth + 1);
        continue;
      }
      if (!e.isFile()) continue; // sockets, fifos, devices: not payload
      const clean = cleanPackagePath(rel);
      if (!clean) throw new ImportError("unsafe_path", `${rel}: not a portable path`);
      if (out.length >= limits.maxFiles) throw new ImportError("too_large", `more than ${limits.maxFiles} files`);
      const blob = await batch.put(Bun.file(full).stream() as unknown as AsyncIterable<Uint8Array>, limits.maxTotalBytes - total);
      total += blob.size;
      out.push({ path: clean, sha256: blob.sha256, size: blob.size });
    }
  };
  try {
    await walk(dir, 0);
  } catch (err) {
    batch.rollback();
    if (err instanceof ImportError) throw err;
    throw new ImportError("too_large", (err as Error).message.slice(0, 200));
  }
  return out;
}
