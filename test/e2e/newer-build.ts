/**
 * @module test/e2e/newer-build
 * A really newer appliance binary for the upgrade tests: a temporary copy of this tree (without
 * node_modules, which is linked, nor dist/) with extra migrations and a bumped version, compiled
 * exactly as the image's binary is (`scripts/build.ts --baseline --only appliance`).
 * The migrations get numbers far above the real ones (9001, ...), so the copy is newer whatever
 * has landed since.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "./helpers.ts";

export interface ExtraMigration {
  /** 9001 and up. */
  version: number;
  name: string;
  sql: string;
}

/** Adds `extra` to a copy of the migrations index (the file's own two-part layout: imports, then the list). */
export function withMigrations(index: string, extra: readonly ExtraMigration[]): string {
  let out = index;
  for (const m of extra) {
    const id = `m${m.version}`;
    const file = `./${m.version}_${m.name}.sql`;
    out = out.replace(/^(import [^\n]+ with \{ type: "text" \};\n)(?!import)/m, `$1import ${id} from "${file}" with { type: "text" };\n`);
    out = out.replace(/\n\]\.sort\(/, `\n  { version: ${m.version}, name: "${m.version}_${m.name}", sql: ${id} },\n].sort(`);
    if (!out.includes(`import ${id} `) || !out.includes(`sql: ${id} }`)) throw new Error("the migrations index changed its layout; update test/e2e/newer-build.ts");
  }
  return out;
}

/**
 * Builds `medulla` at `version` with `extra` migrations (cumulative: pass every extra migration
 * the build must hold) and returns the binary's path inside `outDir`.
 */
export async function buildNewer(outDir: string, version: string, extra: readonly ExtraMigration[]): Promise<string> {
  const tree = mkdtempSync(join(tmpdir(), "medulla-newer-"));
  try {
    const copy = Bun.spawnSync(["sh", "-c", `tar -C "$0" --exclude=./node_modules --exclude=./dist --exclude=./.git -cf - . | tar -C "$1" -xf -`, root, tree]);
    if (copy.exitCode !== 0) throw new Error(`copying the tree failed: ${copy.stderr}`);
    symlinkSync(join(root, "node_modules"), join(tree, "node_modules"));
    const migrations = join(tree, "src", "db", "migrations");
    for (const m of extra) writeFileSync(join(migrations, `${m.version}_${m.name}.sql`), m.sql);
    writeFileSync(join(migrations, "index.ts"), withMigrations(readFileSync(join(migrations, "index.ts"), "utf8"), extra));
    const pkg = JSON.parse(readFileSync(join(tree, "package.json"), "utf8"));
    pkg.version = version;
    writeFileSync(join(tree, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
    const build = Bun.spawn([join(root, "node_modules", ".bin", "bun"), "scripts/build.ts", "--baseline", "--only", "appliance"], { cwd: tree, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(build.stdout).text(), new Response(build.stderr).text(), build.exited]);
    if (code !== 0) throw new Error(`building medulla ${version} failed (${code}):\n${out}\n${err}`);
    const target = join(outDir, `medulla-${version}`);
    const cp = Bun.spawnSync(["cp", join(tree, "dist", "medulla"), target]);
    if (cp.exitCode !== 0) throw new Error(`copying the binary failed: ${cp.stderr}`);
    return target;
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}
