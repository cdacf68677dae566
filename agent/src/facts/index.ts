/**
 * @module agent/facts
 * What the agent tells the server about its machine (`MachineFacts` in
 * src/protocol/actions.ts): gathered from Node's `os` module everywhere, plus per OS
 * files and commands whose output the parsers beside this module read. Commands run with
 * a timeout and their failure only leaves a fact empty. The result is clamped to the
 * schema's limits so a strange machine can never produce an invalid announce.
 */
import { readFile } from "node:fs/promises";
import os from "node:os";
import type { MachineFacts } from "../../../src/protocol/actions.ts";
import { VERSION } from "../../../src/version.ts";
import { agentOs } from "../paths.ts";
import { parseSwVers, parseSystemProfiler } from "./darwin.ts";
import { parseDmi, parseOsRelease, parseWho } from "./linux.ts";
import { networkFacts, type Interface } from "./net.ts";
import { parseQueryUser, parseWindowsFacts, WINDOWS_FACTS_SCRIPT } from "./windows.ts";

export type Facts = MachineFacts & { osBuild?: string; model?: string; interfaces?: Interface[] };

export interface FactsDeps {
  platform: string;
  /** Runs a command; resolves with its stdout, or "" when it fails or times out. */
  run(argv: string[], timeoutMs?: number): Promise<string>;
  readText(path: string): Promise<string | undefined>;
  os: Pick<typeof os, "hostname" | "arch" | "uptime" | "networkInterfaces" | "release" | "userInfo">;
}

export async function runCommand(argv: string[], timeoutMs = 15_000): Promise<string> {
  try {
    const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "ignore", stdin: "ignore", timeout: timeoutMs, windowsHide: true });
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    // `query user` exits 1 when someone is signed in but not in the caller's session.
    return code === 0 || out.trim() ? out : "";
  } catch {
    return "";
  }
}

export const systemDeps: FactsDeps = {
  platform: process.platform,
  run: runCommand,
  readText: (p) => readFile(p, "utf8").catch(() => undefined),
  os,
};

export function normalizeArch(arch: string): string {
  return ({ x64: "x64", arm64: "arm64", ia32: "x86", arm: "arm" } as Record<string, string>)[arch] ?? arch;
}

export async function collectFacts(agentId: string, deps: FactsDeps = systemDeps): Promise<Facts> {
  const platform = agentOs(deps.platform);
  const net = networkFacts(deps.os.networkInterfaces());
  const base = {
    agentId,
    agentVersion: VERSION,
    hostname: deps.os.hostname(),
    os: platform,
    arch: normalizeArch(deps.os.arch()),
    ips: net.ips,
    macs: net.macs,
    interfaces: net.interfaces,
    uptimeSeconds: Math.max(0, Math.floor(deps.os.uptime())),
  };
  const specific = platform === "linux" ? await linuxFacts(deps) : platform === "darwin" ? await darwinFacts(deps) : platform === "windows" ? await windowsFacts(deps) : {};
  return clampFacts({ osName: deps.platform, osVersion: deps.os.release(), loggedUser: "", ...base, ...specific });
}

async function linuxFacts(deps: FactsDeps): Promise<Partial<Facts>> {
  const dmiNames = ["product_uuid", "product_serial", "sys_vendor", "product_name", "board_serial"] as const;
  const [osRelease, who, ...dmi] = await Promise.all([
    deps.readText("/etc/os-release").then((t) => t ?? deps.readText("/usr/lib/os-release")),
    deps.run(["who"], 5_000),
    ...dmiNames.map((n) => deps.readText(`/sys/class/dmi/id/${n}`)),
  ]);
  const rel = parseOsRelease(osRelease ?? "");
  const hw = parseDmi(Object.fromEntries(dmiNames.map((n, i) => [n, dmi[i]])));
  return { osName: rel.name, osVersion: rel.version, osBuild: deps.os.release(), loggedUser: parseWho(who)[0]?.user ?? "", ...defined(hw) };
}

async function darwinFacts(deps: FactsDeps): Promise<Partial<Facts>> {
  const [sw, hw, who] = await Promise.all([
    deps.run(["sw_vers"], 10_000),
    deps.run(["system_profiler", "SPHardwareDataType", "-json"], 30_000),
    deps.run(["who"], 5_000),
  ]);
  const v = parseSwVers(sw);
  return { osName: v.name, osVersion: v.version, osBuild: v.build, loggedUser: parseWho(who)[0]?.user ?? "", ...defined(parseSystemProfiler(hw)) };
}

async function windowsFacts(deps: FactsDeps): Promise<Partial<Facts>> {
  const [json, users] = await Promise.all([
    deps.run(["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command", WINDOWS_FACTS_SCRIPT], 60_000),
    deps.run(["query.exe", "user"], 10_000),
  ]);
  const w = parseWindowsFacts(json);
  const { consoleUser, ...rest } = w;
  const loggedUser = consoleUser ?? parseQueryUser(users)[0]?.user ?? "";
  return { ...defined(rest), loggedUser };
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== "")) as Partial<T>;
}

const cut = (s: string | undefined, max: number) => (s === undefined ? undefined : [...s].slice(0, max).join(""));

/** Cuts every value to the limits of the `MachineFacts` schema. */
export function clampFacts(f: Facts): Facts {
  const out: Facts = {
    ...f,
    agentId: cut(f.agentId, 64)!,
    agentVersion: cut(f.agentVersion, 32)!,
    hostname: cut(f.hostname, 255)!,
    osName: cut(f.osName, 255)!,
    osVersion: cut(f.osVersion, 100)!,
    arch: cut(f.arch, 32)!,
    ips: f.ips.slice(0, 64).map((s) => cut(s, 64)!),
    macs: f.macs.slice(0, 64).map((s) => cut(s, 32)!),
    loggedUser: cut(f.loggedUser, 255)!,
    uptimeSeconds: Math.max(0, Math.floor(f.uptimeSeconds)),
  };
  for (const [k, max] of [["uuid", 64], ["serial", 128], ["manufacturer", 128], ["model", 255], ["osBuild", 100]] as const) {
    if (out[k] !== undefined) out[k] = cut(out[k], max);
    else delete out[k];
  }
  if (out.interfaces) out.interfaces = out.interfaces.slice(0, 64);
  return out;
}

/** Facts that matter for re-announcing: everything but what changes by itself (uptime). */
export function factsFingerprint(f: Facts): string {
  const { uptimeSeconds: _u, ...rest } = f;
  return JSON.stringify(canonical(rest));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}
