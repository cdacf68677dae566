/**
 * `npm run build`: `dist/medulla` and `dist/agent/medulla-agent-<os>-<arch>` for this machine.
 * `npm run build:release` (`--release`) adds `dist/medulla-linux-arm64` and the agents for
 * linux-x64, linux-arm64, windows-x64, darwin-x64 and darwin-arm64 (DESIGN.md "Commands"),
 * then `dist/SHA256SUMS`. Both write `dist/agent/SHA256SUMS`, which the appliance's enrollment
 * page shows beside each download. Views, static assets and migrations are embedded by their
 * imports; the binary needs nothing beside it (the agents it serves sit in `agent/` beside it).
 *
 * Cross targets come from Bun's runtimes on the npm registry (fetched once, then cached).
 * Startup bytecode (`--bytecode`) is used for every target that accepts it: it halves the
 * time to the first answer. x64 targets of a release (and of `--baseline`, which the appliance
 * image uses) are Bun's "baseline" builds: they run on any x86-64-v2 CPU, including
 * hypervisors' default virtual CPUs without AVX2 (Proxmox's x86-64-v2-AES, kvm64) and older
 * PCs, where the default build stops with "Illegal instruction". Options: `--release`,
 * `--baseline`, `--only appliance|agent`.
 */
import { $ } from "bun";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const dist = join(root, "dist");
const release = process.argv.includes("--release");
const baseline = release || process.argv.includes("--baseline");
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt > 0 ? process.argv[onlyAt + 1] : undefined;
mkdirSync(join(dist, "agent"), { recursive: true });

interface Target {
  entry: string;
  outfile: string;
  /** Bun's target (`bun-linux-arm64`); none for this machine. */
  target?: string;
}

const hostArch = process.arch === "arm64" ? "arm64" : "x64";
const hostOs = process.platform === "win32" ? "windows" : process.platform === "darwin" ? "darwin" : "linux";
const AGENT_TARGETS = ["linux-x64", "linux-arm64", "windows-x64", "darwin-x64", "darwin-arm64"] as const;

const targets: Target[] = [];
/** Bun's target for `<os>-<arch>`, or none for this machine's default build. */
const bunTarget = (osArch: string): string | undefined => {
  const native = osArch === `${hostOs}-${hostArch}`;
  if (osArch.endsWith("-x64") && baseline) return `bun-${osArch}-baseline`;
  return native ? undefined : `bun-${osArch}`;
};

if (only !== "agent") {
  targets.push({ entry: "src/main.ts", outfile: "dist/medulla", target: bunTarget(`${hostOs}-${hostArch}`) });
  if (release) {
    const other = hostArch === "x64" ? "arm64" : "x64";
    targets.push({ entry: "src/main.ts", outfile: `dist/medulla-linux-${other}`, target: `bun-linux-${other}` });
  }
}
if (only !== "appliance") {
  const agentEntry = "agent/main.ts";
  const agentName = (osArch: string) => `dist/agent/medulla-agent-${osArch}${osArch.startsWith("windows") ? ".exe" : ""}`;
  if (release) {
    for (const osArch of AGENT_TARGETS) targets.push({ entry: agentEntry, outfile: agentName(osArch), target: bunTarget(osArch) });
  } else {
    targets.push({ entry: agentEntry, outfile: agentName(`${hostOs}-${hostArch}`), target: bunTarget(`${hostOs}-${hostArch}`) });
  }
}

async function compile(t: Target, bytecode: boolean): Promise<void> {
  const args = ["build", "--compile", "--minify", "--sourcemap=none", t.entry, "--outfile", t.outfile];
  if (t.target) args.push(`--target=${t.target}`);
  if (bytecode) args.push("--bytecode");
  if (t.target?.includes("windows")) args.push("--windows-hide-console");
  await $`${process.execPath} ${args}`.cwd(root).quiet();
}

for (const t of targets) {
  const started = performance.now();
  try {
    await compile(t, true);
  } catch (err) {
    // Some targets refuse bytecode; the binary works without it (slower first start).
    console.warn(`${t.outfile}: without --bytecode (${String((err as { stderr?: Buffer }).stderr ?? err).trim().split("\n").pop()})`);
    await compile(t, false);
  }
  const mib = statSync(join(root, t.outfile)).size / 1048576;
  console.log(`built ${t.outfile} (${mib.toFixed(1)} MiB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

async function sha256(file: string): Promise<string> {
  return new Bun.CryptoHasher("sha256").update(await Bun.file(file).arrayBuffer()).digest("hex");
}

// Agents: dist/agent/SHA256SUMS lists every agent present (the enrollment page reads it).
const agentDir = join(dist, "agent");
const agents = readdirSync(agentDir).filter((f) => f.startsWith("medulla-agent-")).sort();
const agentSums: string[] = [];
for (const f of agents) agentSums.push(`${await sha256(join(agentDir, f))}  ${f}`);
if (agentSums.length) await Bun.write(join(agentDir, "SHA256SUMS"), `${agentSums.join("\n")}\n`);
else rmSync(join(agentDir, "SHA256SUMS"), { force: true });

if (release) {
  const lines: string[] = [];
  for (const f of readdirSync(dist).filter((f) => /^medulla(-linux-(x64|arm64))?$/.test(f)).sort()) lines.push(`${await sha256(join(dist, f))}  ${f}`);
  for (const line of agentSums) lines.push(line.replace("  ", "  agent/"));
  await Bun.write(join(dist, "SHA256SUMS"), `${lines.join("\n")}\n`);
  console.log(`wrote dist/SHA256SUMS (${lines.length} files)`);
}
if (!existsSync(join(dist, "medulla")) && only !== "agent") process.exitCode = 1;
