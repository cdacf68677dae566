/**
 * @module agent/service/systemd
 * The Linux service: a systemd unit that runs `medulla-agent run --config …`, restarts it
 * whatever the exit, and starts after the network is up. Installed only where systemd is
 * PID 1 (`/run/systemd/system` exists, as sd_booted(3) checks).
 */
import type { Plan, ServiceTarget } from "./plan.ts";

export const UNIT_NAME = "medulla-agent.service";
export const UNIT_PATH = `/etc/systemd/system/${UNIT_NAME}`;

/** Quotes one ExecStart word: double quotes, backslash escapes, `%` doubled (systemd specifiers). */
export function systemdQuote(word: string): string {
  const escaped = word.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%");
  return /^[\w@%+=:,./-]+$/.test(word) ? escaped : `"${escaped}"`;
}

export function systemdUnit(t: ServiceTarget): string {
  const exec = [...t.program, "run", "--config", t.configPath].map(systemdQuote).join(" ");
  return `[Unit]
Description=Medulla agent (calls home to the Medulla appliance)
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
ExecStart=${exec}
Restart=always
RestartSec=10
# The agent manages the machine (software, inventory): it runs as root on purpose.
User=root
KillMode=mixed
TimeoutStopSec=15

[Install]
WantedBy=multi-user.target
`;
}

export function systemdInstall(t: ServiceTarget): Plan {
  return {
    manager: "systemd",
    steps: [
      { kind: "write", path: UNIT_PATH, content: systemdUnit(t), mode: 0o644 },
      { kind: "run", argv: ["systemctl", "daemon-reload"] },
      { kind: "run", argv: ["systemctl", "enable", UNIT_NAME] },
      { kind: "run", argv: ["systemctl", "restart", UNIT_NAME] },
    ],
  };
}

export function systemdUninstall(): Plan {
  return {
    manager: "systemd",
    steps: [
      { kind: "run", argv: ["systemctl", "disable", "--now", UNIT_NAME], mayFail: true },
      { kind: "remove", path: UNIT_PATH },
      { kind: "run", argv: ["systemctl", "daemon-reload"] },
    ],
  };
}
