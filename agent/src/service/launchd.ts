/**
 * @module agent/service/launchd
 * The macOS service: a LaunchDaemon (runs as root at boot, before anyone signs in) kept
 * alive by launchd, logging to /Library/Logs/Medulla/agent.log. Loaded with the modern
 * `launchctl bootstrap system …` (load/unload are deprecated).
 */
import type { Plan, ServiceTarget } from "./plan.ts";

export const LABEL = "org.medulla.agent";
export const PLIST_PATH = `/Library/LaunchDaemons/${LABEL}.plist`;
export const LOG_PATH = "/Library/Logs/Medulla/agent.log";

export function xmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

export function launchdPlist(t: ServiceTarget): string {
  const args = [...t.program, "run", "--config", t.configPath].map((a) => `\t\t<string>${xmlEscape(a)}</string>`).join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
\t<key>Label</key>
\t<string>${LABEL}</string>
\t<key>ProgramArguments</key>
\t<array>
${args}
\t</array>
\t<key>RunAtLoad</key>
\t<true/>
\t<key>KeepAlive</key>
\t<true/>
\t<key>ThrottleInterval</key>
\t<integer>10</integer>
\t<key>StandardErrorPath</key>
\t<string>${LOG_PATH}</string>
\t<key>StandardOutPath</key>
\t<string>${LOG_PATH}</string>
</dict>
</plist>
`;
}

export function launchdInstall(t: ServiceTarget): Plan {
  return {
    manager: "launchd",
    steps: [
      { kind: "run", argv: ["mkdir", "-p", "/Library/Logs/Medulla"] },
      { kind: "run", argv: ["launchctl", "bootout", `system/${LABEL}`], mayFail: true },
      { kind: "write", path: PLIST_PATH, content: launchdPlist(t), mode: 0o644 },
      { kind: "run", argv: ["launchctl", "bootstrap", "system", PLIST_PATH] },
      { kind: "run", argv: ["launchctl", "enable", `system/${LABEL}`] },
    ],
  };
}

export function launchdUninstall(): Plan {
  return {
    manager: "launchd",
    steps: [
      { kind: "run", argv: ["launchctl", "bootout", `system/${LABEL}`], mayFail: true },
      { kind: "remove", path: PLIST_PATH },
    ],
  };
}
