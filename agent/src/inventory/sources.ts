/**
 * @module agent/inventory/sources
 * What a collector reads, declared as data: files, commands, or a folder of small files
 * (sysfs), each under a key. `gatherSources` reads them all (commands with a timeout, in
 * parallel) into a map from key to text, undefined when unavailable; the OS collector's
 * builder turns that map into the document without any I/O, so tests feed it captured
 * outputs kept under the same keys (test/fixtures/agent/inventory/<os>/<machine>/<key>).
 */
import { readdir, readFile } from "node:fs/promises";
import type { Warn } from "./format.ts";

export type Source =
  /** The first of these files that can be read. */
  | { file: string[]; quiet?: boolean }
  /** A command's stdout; `quiet` when its absence is normal (rpm on Debian). */
  | { cmd: string[]; timeoutMs?: number; quiet?: boolean }
  /** Every entry of a folder: `{ "<entry>": "<content of entry/<file>>" }` as JSON, base64 when binary. */
  | { dir: string; entryFile: string; binary?: boolean; quiet?: boolean };

export type Raw = Record<string, string | undefined>;

export interface SourceDeps {
  /** Runs a command; `missing` when it is not installed. */
  run(argv: string[], timeoutMs: number): Promise<{ stdout: string; code: number; missing?: boolean }>;
  readFile(path: string): Promise<Buffer | undefined>;
  listDir(path: string): Promise<string[] | undefined>;
}

export const DEFAULT_TIMEOUT_MS = 60_000;

export async function runCommand(argv: string[], timeoutMs: number): Promise<{ stdout: string; code: number; missing?: boolean }> {
  if (!Bun.which(argv[0]!)) return { stdout: "", code: 127, missing: true };
  try {
    const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "ignore", stdin: "ignore", timeout: timeoutMs, windowsHide: true, env: { ...process.env, LC_ALL: "C", LANG: "C" } });
    const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    return { stdout, code };
  } catch {
    return { stdout: "", code: 127, missing: true };
  }
}

export const systemSourceDeps: SourceDeps = {
  run: runCommand,
  readFile: (p) => readFile(p).catch(() => undefined),
  listDir: (p) => readdir(p).catch(() => undefined),
};

async function gatherOne(key: string, s: Source, deps: SourceDeps, warn: Warn): Promise<string | undefined> {
  const note = (msg: string) => void (s.quiet ? undefined : warn(`${key}: ${msg}`));
  if ("cmd" in s) {
    const r = await deps.run(s.cmd, s.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    if (r.missing) return note(`${s.cmd[0]} is not installed, so this part is empty`), undefined;
    // Some commands print a useful list and still exit non-zero (a package query with one broken entry).
    if (r.code !== 0 && !r.stdout.trim()) return note(`${s.cmd.join(" ")} failed (exit ${r.code})`), undefined;
    return r.stdout;
  }
  if ("file" in s) {
    for (const path of s.file) {
      const b = await deps.readFile(path);
      if (b !== undefined) return b.toString("utf8");
    }
    return note(`cannot read ${s.file.join(" or ")}`), undefined;
  }
  const entries = await deps.listDir(s.dir);
  if (!entries) return note(`cannot list ${s.dir}`), undefined;
  const out: Record<string, string> = {};
  for (const e of entries.sort()) {
    const b = await deps.readFile(`${s.dir}/${e}${s.entryFile ? `/${s.entryFile}` : ""}`);
    if (b !== undefined) out[e] = s.binary ? b.toString("base64") : b.toString("utf8");
  }
  return JSON.stringify(out);
}

export async function gatherSources(sources: Record<string, Source>, deps: SourceDeps, warn: Warn): Promise<Raw> {
  const keys = Object.keys(sources);
  const values = await Promise.all(keys.map((k) => gatherOne(k, sources[k]!, deps, warn).catch((e: Error) => (warn(`${k}: ${e.message}`), undefined))));
  return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
}
