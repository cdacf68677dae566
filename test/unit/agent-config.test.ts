import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configFromText, loadConfig, normalizeFingerprint, saveConfig, type AgentConfig } from "../../agent/src/config.ts";
import { besideConfig, caPath, defaultConfigPath, resolveConfigPath, statePath } from "../../agent/src/paths.ts";

const FP = `sha256:${"0a".repeat(32)}`;
const config = (over: Partial<AgentConfig["xmpp"]> = {}): Omit<AgentConfig, "path"> => ({
  server: { url: "https://medulla.lan:8443", caFingerprint: FP, caFile: "/etc/medulla-agent/agent.ca.pem" },
  xmpp: { jid: "m42@medulla.lan", password: "s3cr#t;=", host: "medulla.lan", port: 5222, domain: "medulla.lan", serverJid: "medulla@medulla.lan", ...over },
  agent: { id: "42", logLevel: "info", heartbeatSeconds: 60, factsIntervalSeconds: 300 },
});

describe("agent config paths", () => {
  test("default per OS", () => {
    expect(defaultConfigPath("linux", {})).toBe("/etc/medulla-agent/agent.ini");
    expect(defaultConfigPath("darwin", {})).toBe("/Library/Application Support/Medulla/agent.ini");
    expect(defaultConfigPath("win32", { ProgramData: "D:\\PD" })).toBe("D:\\PD\\Medulla\\agent.ini");
    expect(defaultConfigPath("win32", {})).toBe("C:\\ProgramData\\Medulla\\agent.ini");
  });

  test("--config wins over MEDULLA_AGENT_CONFIG, which wins over the default", () => {
    expect(resolveConfigPath("/x/a.ini", { MEDULLA_AGENT_CONFIG: "/y/b.ini" }, "linux")).toBe("/x/a.ini");
    expect(resolveConfigPath(undefined, { MEDULLA_AGENT_CONFIG: "/y/b.ini" }, "linux")).toBe("/y/b.ini");
    expect(resolveConfigPath(undefined, {}, "linux")).toBe("/etc/medulla-agent/agent.ini");
  });

  test("state and CA live beside the config, named after it", () => {
    expect(statePath("/etc/medulla-agent/agent.ini")).toBe("/etc/medulla-agent/agent.state.json");
    expect(caPath("/srv/x/other.ini")).toBe("/srv/x/other.ca.pem");
    expect(caPath("C:\\ProgramData\\Medulla\\agent.ini")).toBe("C:\\ProgramData\\Medulla\\agent.ca.pem");
    expect(besideConfig("/a/noext", ".state.json")).toBe("/a/noext.state.json");
  });
});

describe("agent config", () => {
  test("fingerprints in the spellings people paste", () => {
    expect(normalizeFingerprint(`SHA256:${"0A".repeat(32)}`)).toBe(FP);
    expect(normalizeFingerprint(Array(32).fill("0A").join(":"))).toBe(FP);
    expect(normalizeFingerprint("sha256:abc")).toBeNull();
  });

  test("saved with mode 0600, read back equal, unknown keys kept", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agent-config-"));
    try {
      const path = join(dir, "sub", "agent.ini");
      await saveConfig(path, config(), { agent: { custom: "kept" }, extra: { a: "b" } });
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const load = await loadConfig(path);
      expect(load.kind).toBe("ok");
      if (load.kind !== "ok") return;
      expect(load.config).toEqual({ path, ...config() });
      expect(load.raw.agent!.custom).toBe("kept");
      expect(load.raw.extra).toEqual({ a: "b" });
      expect(readFileSync(path, "utf8")).toContain("password = s3cr#t;=");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("missing file, missing keys, bad values and fatal INI issues are reported", async () => {
    expect(await loadConfig("/nonexistent/agent.ini")).toEqual({ kind: "missing", path: "/nonexistent/agent.ini" });
    const r = configFromText("a.ini", "[server]\nurl=http://x\ncafingerprint=nope\n[xmpp]\nport=99999\n[agent]\nloglevel=loud\ngarbage line\n");
    expect(r.kind).toBe("invalid");
    if (r.kind !== "invalid") return;
    expect(r.problems).toEqual([
      "a.ini line 8: expected `key = value`",
      "a.ini: [server] url must start with https://",
      "a.ini: [server] cafingerprint must be sha256: and 64 hex digits",
      "a.ini: [agent] loglevel must be debug, info, warn or error",
      "a.ini: [server] cafile is missing",
      "a.ini: [xmpp] jid is missing",
      "a.ini: [xmpp] password is missing",
      "a.ini: [xmpp] host is missing",
      "a.ini: [xmpp] port must be a whole number from 1 to 65535, not \"99999\"",
      "a.ini: [xmpp] domain is missing",
      "a.ini: [xmpp] serverjid is missing",
      "a.ini: [agent] id is missing",
    ]);
  });

  test("duplicates are warnings, not refusals", () => {
    const text = `[server]\nurl=https://m\ncafingerprint=${FP}\ncafile=/c.pem\n[xmpp]\njid=a@m\npassword=p\npassword=q\nhost=m\ndomain=m\nserverjid=s@m\n[agent]\nid=1\n`;
    const r = configFromText("a.ini", text);
    expect(r.kind).toBe("ok");
    if (r.kind !== "ok") return;
    expect(r.config.xmpp.password).toBe("q");
    expect(r.warnings).toEqual(['a.ini line 8: key "password" appears again in [xmpp]; the last value wins']);
  });
});
