/**
 * Builds the single executable `dist/medulla` for this machine (`--release` adds
 * linux-arm64 and writes dist/SHA256SUMS). Views, static assets and migrations are
 * embedded by their imports; the binary needs nothing beside it.
 */
import { $ } from "bun";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const dist = join(root, "dist");
const release = process.argv.includes("--release");
mkdirSync(join(dist, "agent"), { recursive: true });

interface Target {
  entry: string;
  outfile: string;
  target?: string;
}

const targets: Target[] = [{ entry: "src/main.ts", outfile: "dist/medulla" }];
if (release) targets.push({ entry: "src/main.ts", outfile: "dist/medulla-linux-arm64", target: "bun-linux-arm64" });

// The agent comes with its own issue; build it once its entry point exists.
const agentEntry = "agent/main.ts";
if (existsSync(join(root, agentEntry))) {
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  targets.push({ entry: agentEntry, outfile: `dist/agent/medulla-agent-linux-${arch}` });
}

for (const t of targets) {
  const started = performance.now();
  const args = ["build", "--compile", "--minify", "--sourcemap=none", t.entry, "--outfile", t.outfile];
  if (t.target) args.push(`--target=${t.target}`);
  else args.push("--bytecode");
  await $`${process.execPath} ${args}`.cwd(root).quiet();
  console.log(`built ${t.outfile} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

if (release) {
  const files = readdirSync(dist).filter((f) => f.startsWith("medulla")).map((f) => f);
  const lines: string[] = [];
  for (const f of files) {
    const hash = new Bun.CryptoHasher("sha256").update(await Bun.file(join(dist, f)).arrayBuffer()).digest("hex");
    lines.push(`${hash}  ${f}`);
  }
  await Bun.write(join(dist, "SHA256SUMS"), `${lines.join("\n")}\n`);
  console.log("wrote dist/SHA256SUMS");
}
