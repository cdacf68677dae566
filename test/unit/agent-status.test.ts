import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureCertificates } from "../../src/certs/index.ts";
import { saveConfig } from "../../agent/src/config.ts";
import { formatStatus, gatherStatus } from "../../agent/src/status.ts";

test("status: not enrolled, then enrolled with a matching CA and a state file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "agent-status-"));
  try {
    const path = join(dir, "agent.ini");
    const none = await gatherStatus(path, async () => false);
    expect(none).toEqual({ config: { path, found: false, problems: [] }, enrolled: false, service: { installed: false }, connection: null });
    expect(formatStatus(none)).toEqual([`config:        ${path} (not found)`, "enrolled:      no", "service:       not installed", "connection:    no state yet (the agent has not run with this config)"]);

    const certs = await ensureCertificates(join(dir, "certs"), { dns: ["localhost"], ips: [] });
    writeFileSync(join(dir, "agent.ca.pem"), certs.caCert);
    await saveConfig(path, {
      server: { url: "https://m.lan:8443", caFingerprint: certs.caFingerprint, caFile: join(dir, "agent.ca.pem") },
      xmpp: { jid: "m1@m.lan", password: "p", host: "m.lan", port: 5222, domain: "m.lan", serverJid: "medulla@m.lan" },
      agent: { id: "1", logLevel: "info", heartbeatSeconds: 60, factsIntervalSeconds: 300 },
    });
    const at = "2026-01-01T10:00:00.000Z";
    writeFileSync(join(dir, "agent.state.json"), JSON.stringify({ pid: process.pid, state: "connected", updatedAt: at, connectedSince: at, lastAnnounceAt: at, machineId: 1 }));
    const s = await gatherStatus(path, async () => null);
    expect(s.enrolled).toBe(true);
    expect(s.pinnedCa).toEqual({ fingerprint: certs.caFingerprint, file: join(dir, "agent.ca.pem"), matches: true });
    expect(s.connection?.processAlive).toBe(true);
    expect(formatStatus(s, Date.parse(at) + 5_000).slice(1)).toEqual([
      "enrolled:      yes, machine 1",
      "server:        https://m.lan:8443",
      "jid:           m1@m.lan",
      `pinned CA:     ${certs.caFingerprint} (${join(dir, "agent.ca.pem")}: matches)`,
      "service:       unknown on this OS",
      `connection:    connected since ${at}; process ${process.pid} running; state written ${at} (5 s ago)`,
      `last announce: ${at} (5 s ago)`,
    ]);
    writeFileSync(join(dir, "agent.ca.pem"), "tampered");
    expect((await gatherStatus(path, async () => null)).pinnedCa?.matches).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
