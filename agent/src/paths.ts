/**
 * @module agent/paths
 * Where the agent keeps its files (DESIGN.md "Enrollment"): the INI config at a default
 * path per OS, or `--config PATH` / `MEDULLA_AGENT_CONFIG`; the saved CA and the state
 * file live beside whichever config is in use, named after it, so two configs in one
 * folder never share state.
 */
import { posix, win32 } from "node:path";

export type AgentOs = "linux" | "windows" | "darwin" | "other";

export function agentOs(platform: string = process.platform): AgentOs {
  if (platform === "win32") return "windows";
  if (platform === "linux" || platform === "darwin") return platform;
  return "other";
}

export function defaultConfigPath(platform: string = process.platform, env: Record<string, string | undefined> = process.env): string {
  switch (agentOs(platform)) {
    case "windows":
      return win32.join(env.ProgramData || env.PROGRAMDATA || "C:\\ProgramData", "Medulla", "agent.ini");
    case "darwin":
      return "/Library/Application Support/Medulla/agent.ini";
    default:
      return "/etc/medulla-agent/agent.ini";
  }
}

/** `--config` wins over `MEDULLA_AGENT_CONFIG`, which wins over the OS default. */
export function resolveConfigPath(flag: string | undefined, env: Record<string, string | undefined> = process.env, platform: string = process.platform): string {
  if (flag) return flag;
  if (env.MEDULLA_AGENT_CONFIG) return env.MEDULLA_AGENT_CONFIG;
  return defaultConfigPath(platform, env);
}

function pathsFor(configPath: string) {
  return /^[A-Za-z]:[\\/]|\\/.test(configPath) ? win32 : posix;
}

/** A file beside the config named after it: `agent.ini` + `.state.json` → `agent.state.json`. */
export function besideConfig(configPath: string, suffix: string): string {
  const p = pathsFor(configPath);
  const dir = p.dirname(configPath);
  const base = p.basename(configPath).replace(/\.ini$/i, "");
  return p.join(dir, `${base}${suffix}`);
}

export const statePath = (configPath: string) => besideConfig(configPath, ".state.json");
export const caPath = (configPath: string) => besideConfig(configPath, ".ca.pem");
