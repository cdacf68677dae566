/**
 * @module agent/service/windows
 * The Windows service, registered with sc.exe: automatic start, restart on failure (5 s,
 * 30 s, then every minute; the failure count resets after a day), failure actions also on
 * a non-crash exit. sc.exe wants `option= value` as two words; `binPath=` holds the whole
 * command line, so the program and config paths are quoted inside it.
 */
import type { Plan, ServiceTarget } from "./plan.ts";

export const SERVICE_NAME = "MedullaAgent";
export const DISPLAY_NAME = "Medulla agent";

/** Quotes one word for a Windows command line (CommandLineToArgvW rules). */
export function windowsQuote(word: string): string {
  if (word && !/[\s"]/.test(word)) return word;
  // Backslashes are literal unless they precede a quote; double those that do.
  return `"${word.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, "$1$1")}"`;
}

export function windowsBinPath(t: ServiceTarget): string {
  return [...t.program, "run", "--config", t.configPath].map(windowsQuote).join(" ");
}

export function windowsInstall(t: ServiceTarget): Plan {
  return {
    manager: "windows-service",
    steps: [
      { kind: "run", argv: ["sc.exe", "stop", SERVICE_NAME], mayFail: true },
      { kind: "run", argv: ["sc.exe", "delete", SERVICE_NAME], mayFail: true },
      { kind: "run", argv: ["sc.exe", "create", SERVICE_NAME, "binPath=", windowsBinPath(t), "start=", "auto", "DisplayName=", DISPLAY_NAME] },
      { kind: "run", argv: ["sc.exe", "description", SERVICE_NAME, "Calls home to the Medulla appliance and carries out its requests."] },
      { kind: "run", argv: ["sc.exe", "failure", SERVICE_NAME, "reset=", "86400", "actions=", "restart/5000/restart/30000/restart/60000"] },
      { kind: "run", argv: ["sc.exe", "failureflag", SERVICE_NAME, "1"] },
      { kind: "run", argv: ["sc.exe", "start", SERVICE_NAME] },
    ],
  };
}

export function windowsUninstall(): Plan {
  return {
    manager: "windows-service",
    steps: [
      { kind: "run", argv: ["sc.exe", "stop", SERVICE_NAME], mayFail: true },
      { kind: "run", argv: ["sc.exe", "delete", SERVICE_NAME] },
    ],
  };
}
