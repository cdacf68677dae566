/**
 * @module agent/main
 * `medulla-agent`: the endpoint agent's single executable (built by scripts/build.ts into
 * dist/agent/medulla-agent-<os>-<arch>). Commands: enroll, run, status, inventory,
 * install, uninstall, simulate, version, help. Every command takes `--config PATH` (or
 * MEDULLA_AGENT_CONFIG); errors are one clear line on stderr and a non-zero exit code.
 */
import { readFile } from "node:fs/promises";
import { VERSION } from "../src/version.ts";
import { flag, intFlag, parseArgs, UsageError, type ParsedArgs } from "./src/args.ts";
import { loadConfig } from "./src/config.ts";
import { enroll } from "./src/enroll.ts";
import { normalizeArch } from "./src/facts/index.ts";
import { collectInventory, describeResult, inventoryOnce } from "./src/inventory/index.ts";
import { createLogger, isLogLevel, type Logger } from "./src/log.ts";
import { agentOs, resolveConfigPath } from "./src/paths.ts";
import { loadPinnedCa, runAgent } from "./src/run.ts";
import { applyPlan, currentProgram, describePlan, installPlan, serviceManagerProblem, uninstallPlan } from "./src/service/index.ts";
import { isLoopback, parseCredentials, simulate } from "./src/simulate.ts";
import { formatStatus, gatherStatus } from "./src/status.ts";

const USAGE = `medulla-agent ${VERSION}: the Medulla endpoint agent

usage:
  medulla-agent enroll --server https://HOST:8443 --token TOKEN --ca sha256:HEX [--force]
  medulla-agent run [--log-level debug|info|warn|error]
  medulla-agent status [--json]
  medulla-agent inventory [--print] [--force] [--log-level LEVEL]
  medulla-agent install [--dry-run]
  medulla-agent uninstall [--dry-run]
  medulla-agent simulate --server HOST[:PORT] --ca-file PEM (--credentials FILE | --count N --password P --domain D)
                         [--prefix sim] [--rate 50] [--server-jid JID] [--hold SECONDS] [--pings 1] [--spread auto|on|off] [--client lean|xmppjs] [--wait-go]
  medulla-agent version

every command takes --config PATH (default ${resolveConfigPath(undefined, {})}; or MEDULLA_AGENT_CONFIG)`;

const KNOWN = {
  values: ["config", "server", "token", "ca", "log-level", "count", "prefix", "credentials", "password", "domain", "server-jid", "ca-file", "rate", "hold", "pings", "spread", "timeout", "client"],
  booleans: ["force", "json", "dry-run", "help", "print", "wait-go"],
};

/**
 * A long-running agent must not exit on a promise rejected where nobody listens (Bun treats
 * that as fatal). Our login (agent/src/xmpp/client.ts) no longer leaves one behind, as
 * xmpp.js's own start() did on a socket reset; this guard stays for the library's other
 * paths: such a rejection is logged and the agent carries on.
 */
function keepRunningOnStrayRejections(): void {
  process.on("unhandledRejection", (reason) => {
    console.error(`${new Date().toISOString()} WARN  ignored a stray rejection: ${reason instanceof Error ? reason.message : String(reason)}`);
  });
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, KNOWN);
  if (args.flags.help) args.command = "help";
  const configPath = resolveConfigPath(flag(args, "config"));
  switch (args.command) {
    case "enroll":
      return cmdEnroll(args, configPath);
    case "run":
      keepRunningOnStrayRejections();
      return cmdRun(args, configPath);
    case "status": {
      const s = await gatherStatus(configPath);
      console.log(args.flags.json ? JSON.stringify(s, null, 2) : formatStatus(s).join("\n"));
      return s.enrolled ? 0 : 1;
    }
    case "inventory":
      return cmdInventory(args, configPath);
    case "install":
    case "uninstall":
      return cmdService(args, configPath);
    case "simulate":
      keepRunningOnStrayRejections();
      return cmdSimulate(args);
    case "version":
      console.log(`medulla-agent ${VERSION} (${agentOs()}-${normalizeArch(process.arch)})`);
      return 0;
    case "help":
      console.log(USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command "${args.command}"`);
  }
}

async function cmdEnroll(args: ParsedArgs, configPath: string): Promise<number> {
  const [server, token, ca] = [flag(args, "server"), flag(args, "token"), flag(args, "ca")];
  if (!server || !token || !ca) throw new UsageError("enroll needs --server, --token and --ca");
  const c = await enroll({ server, token, ca, configPath, force: !!args.flags.force, timeoutMs: intFlag(args, "timeout", 30, 1, 600) * 1000 });
  console.log(`enrolled as ${c.xmpp.jid} (machine ${c.agent.id}); config written to ${configPath}, CA pinned in ${c.server.caFile}`);
  // The first full inventory, right away; a failure leaves it to the service (within minutes of its start).
  // The config as saved: it keeps a hand-set [inventory] section that `enroll` carried over.
  const saved = await loadConfig(configPath);
  const config = saved.kind === "ok" ? saved.config : c;
  const log = createLogger("warn");
  const result = await inventoryOnce({ config, ca: await loadPinnedCa(config), log, reason: "enrollment", force: true }).catch((e: Error) => ({ status: "failed" as const, error: e.message }));
  console.log(result.status === "failed" || result.status === "refused" ? `${describeResult(result)}; the agent sends it once it runs` : describeResult(result));
  return 0;
}

function commandLogger(args: ParsedArgs, configured: string | undefined): Logger {
  const level = flag(args, "log-level") ?? configured ?? "info";
  if (!isLogLevel(level)) throw new UsageError("--log-level must be debug, info, warn or error");
  return createLogger(level);
}

/** `inventory --print` writes the document to stdout (nothing sent); otherwise it is posted now. */
async function cmdInventory(args: ParsedArgs, configPath: string): Promise<number> {
  const load = await loadConfig(configPath);
  const log = commandLogger(args, load.kind === "ok" ? load.config.agent.logLevel : undefined);
  if (args.flags.print) {
    if (load.kind !== "ok") log.warn(`${configPath} is not an enrolled config; the document carries no agent id`);
    const doc = await collectInventory({ agentId: load.kind === "ok" ? load.config.agent.id : "", warn: (w) => log.warn(`inventory: ${w}`) });
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return 0;
  }
  if (load.kind === "missing") throw new Error(`${configPath} not found: enroll first (or use --print to see the inventory without sending it)`);
  if (load.kind === "invalid") throw new Error(load.problems.join("; "));
  const result = await inventoryOnce({ config: load.config, ca: await loadPinnedCa(load.config), log, reason: "command line", force: !!args.flags.force });
  console.log(describeResult(result));
  return result.status === "sent" || result.status === "unchanged" ? 0 : 1;
}

async function cmdRun(args: ParsedArgs, configPath: string): Promise<number> {
  const load = await loadConfig(configPath);
  if (load.kind === "missing") throw new Error(`${configPath} not found: enroll first (medulla-agent enroll --server … --token … --ca …)`);
  if (load.kind === "invalid") throw new Error(load.problems.join("; "));
  const log = commandLogger(args, load.config.agent.logLevel);
  for (const w of load.warnings) log.warn(w);
  const stop = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => stop.abort());
  log.info(`medulla-agent ${VERSION} starting`, { config: configPath });
  await runAgent(load.config, { log, signal: stop.signal });
  return 0;
}

async function cmdService(args: ParsedArgs, configPath: string): Promise<number> {
  const os = agentOs();
  const plan = args.command === "install" ? installPlan(os, { program: currentProgram(), configPath }) : uninstallPlan(os);
  if (!plan) throw new Error(`no service support for ${process.platform}`);
  if (args.flags["dry-run"]) {
    console.log(describePlan(plan).join("\n"));
    return 0;
  }
  const problem = serviceManagerProblem(os);
  if (problem) throw new Error(problem);
  if (args.command === "install" && (await loadConfig(configPath)).kind !== "ok") throw new Error(`${configPath} is not an enrolled config: enroll before installing the service`);
  await applyPlan(plan, (line) => console.log(line));
  console.log(args.command === "install" ? `installed the ${plan.manager} service; it runs ${currentProgram().join(" ")}: keep the binary there` : `removed the ${plan.manager} service`);
  return 0;
}

async function cmdSimulate(args: ParsedArgs): Promise<number> {
  const server = flag(args, "server");
  const caFile = flag(args, "ca-file");
  if (!server || !caFile) throw new UsageError("simulate needs --server HOST[:PORT] and --ca-file PEM");
  const u = new URL(server.includes("://") ? server : `xmpp://${server}`);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const ca = await readFile(caFile, "utf8");
  const prefix = flag(args, "prefix") ?? "sim";
  let credentials;
  const credFile = flag(args, "credentials");
  if (credFile) {
    credentials = parseCredentials(await readFile(credFile, "utf8"));
    if (flag(args, "count")) credentials = credentials.slice(0, intFlag(args, "count", 1, 1, 1_000_000));
  } else {
    const [password, domain] = [flag(args, "password"), flag(args, "domain")];
    if (!password || !domain || !flag(args, "count")) throw new UsageError("simulate needs --credentials FILE, or --count, --password and --domain");
    const n = intFlag(args, "count", 1, 1, 1_000_000);
    credentials = Array.from({ length: n }, (_, i) => ({ jid: `${prefix}-${i + 1}@${domain}`, password }));
  }
  const spread = flag(args, "spread") ?? "auto";
  if (!["auto", "on", "off"].includes(spread)) throw new UsageError("--spread must be auto, on or off");
  const client = flag(args, "client") ?? "lean";
  if (client !== "lean" && client !== "xmppjs") throw new UsageError("--client must be lean or xmppjs");
  const stop = new AbortController();
  process.once("SIGINT", () => stop.abort());
  const summary = await simulate(
    {
      credentials,
      prefix,
      host,
      port: Number(u.port || 5222),
      domain: flag(args, "domain"),
      serverJid: flag(args, "server-jid"),
      ca,
      ratePerSec: intFlag(args, "rate", 50, 0.01, 100_000),
      holdMs: intFlag(args, "hold", 0, 0, 86_400) * 1000,
      pingSamples: intFlag(args, "pings", 1, 0, 100),
      spread: spread === "on" || (spread === "auto" && process.platform === "linux" && isLoopback(host) && host !== "::1"),
      timeoutMs: intFlag(args, "timeout", 20, 1, 600) * 1000,
      client,
      // --wait-go: say "simulate: ready" once the keys are derived, start on a "go" line on stdin.
      ready: args.flags["wait-go"] ? () => waitForGo((line) => process.stderr.write(`${line}\n`)) : undefined,
    },
    (line) => process.stderr.write(`${line}\n`),
    stop.signal,
  );
  console.log(JSON.stringify(summary));
  return summary.failed === 0 ? 0 : 1;
}

async function waitForGo(say: (line: string) => void): Promise<void> {
  say("simulate: ready");
  for await (const line of console) if (line.trim() === "go") return;
  throw new Error("stdin closed before the go line");
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      process.stderr.write(`medulla-agent: ${e.message}\n`);
      if (e instanceof UsageError) process.stderr.write("run `medulla-agent help` for usage\n");
      process.exit(e instanceof UsageError ? 2 : 1);
    },
  );
}

export { main };
