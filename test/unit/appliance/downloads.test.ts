import { describe, expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentPath, installCommand, listAgents } from "../../../src/features/machines/downloads.ts";
import { commandsFor } from "../../../src/features/machines/enrollment.ts";
import { testApp } from "../../support/app.ts";

const sha = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest("hex");

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), "medulla-agents-"));
  writeFileSync(join(dir, "medulla-agent-linux-x64"), "linux agent");
  writeFileSync(join(dir, "medulla-agent-windows-x64.exe"), "windows agent");
  writeFileSync(join(dir, "medulla-agent-darwin-arm64"), "mac agent");
  writeFileSync(join(dir, "notes.txt"), "not an agent");
  writeFileSync(join(dir, "medulla-agent-linux-x64.exe"), "wrong suffix is still an agent name");
  mkdirSync(join(dir, "medulla-agent-linux-arm64"));
  return dir;
}

describe("agent downloads", () => {
  test("lists only agent files, sorted, with their SHA-256 (computed when no SHA256SUMS)", () => {
    const dir = folder();
    const agents = listAgents(dir);
    expect(agents.map((a) => a.name)).toEqual(["medulla-agent-linux-x64", "medulla-agent-windows-x64.exe", "medulla-agent-darwin-arm64"]);
    expect(agents[0]!.sha256).toBe(sha("linux agent"));
    expect(agents[0]!.size).toBe(11);
  });

  test("SHA256SUMS wins; malformed lines and foreign names in it are ignored", () => {
    const dir = folder();
    const fake = "a".repeat(64);
    writeFileSync(join(dir, "SHA256SUMS"), `${fake}  medulla-agent-linux-x64\nnonsense\n${"b".repeat(64)}  ../../etc/passwd\n${"c".repeat(63)}  medulla-agent-darwin-arm64\n`);
    const agents = listAgents(dir);
    expect(agents.find((a) => a.name === "medulla-agent-linux-x64")!.sha256).toBe(fake);
    expect(agents.find((a) => a.name === "medulla-agent-darwin-arm64")!.sha256).toBe(sha("mac agent"));
  });

  test("a missing folder offers nothing", () => {
    expect(listAgents(join(tmpdir(), "medulla-no-such-folder-xyz"))).toEqual([]);
  });

  test("only agent names resolve to a file: no traversal, no other file", () => {
    const dir = folder();
    symlinkSync("/etc/passwd", join(dir, "passwd"));
    expect(agentPath("medulla-agent-linux-x64", dir)).toBe(join(dir, "medulla-agent-linux-x64"));
    for (const bad of ["../medulla-agent-linux-x64", "notes.txt", "passwd", "medulla-agent-linux-arm64", "medulla-agent-linux-x64/..", "medulla-agent-plan9-x64", "", "medulla-agent-linux-x64\0", "medulla-agent-linux-x64.exe", "medulla-agent-windows-x64"]) {
      expect(agentPath(bad, dir)).toBeNull();
    }
  });

  test("install commands: download, checksum, enroll with the pinned CA, install; hostile values stay quoted", () => {
    const [linux, windows, mac] = listAgents(folder());
    const l = installCommand(linux!, "https://medulla.example:8443", "tok'en", "sha256:ab");
    expect(l).toContain("curl -fsSLk -o medulla-agent 'https://medulla.example:8443/agent/medulla-agent-linux-x64'");
    expect(l).toContain(`echo '${sha("linux agent")}  medulla-agent' | sha256sum -c`);
    expect(l).toContain("--token 'tok'\\''en' --ca 'sha256:ab'");
    expect(l).toContain("sudo ./medulla-agent install");
    expect(installCommand(mac!, "https://m/", "t", "c")).toContain("shasum -a 256 -c");
    const w = installCommand(windows!, "https://m", "t", "c");
    expect(w).toContain("Invoke-WebRequest -UseBasicParsing -Uri 'https://m/agent/medulla-agent-windows-x64.exe'");
    expect(w).toContain(sha("windows agent").toUpperCase());
    expect(w).toContain(".\\medulla-agent.exe install");
  });

  test("commandsFor keys commands by os-arch; without agents, enroll and install only", () => {
    const agents = listAgents(folder());
    expect(Object.keys(commandsFor("https://m", "t", "c", agents))).toEqual(["linux-x64", "windows-x64", "darwin-arm64"]);
    expect(commandsFor("https://m", "t", "c", [])["linux-x64"]).toBe("sudo ./medulla-agent-linux-x64 enroll --server https://m --token t --ca c && sudo ./medulla-agent-linux-x64 install");
  });

  test("GET /agent/<file> is public and 404s on anything else; the enrollment page lists the downloads", async () => {
    const t = testApp();
    const anon = t.client("192.0.2.9");
    expect((await anon.request("GET", "/agent/..%2F..%2Fetc%2Fpasswd")).status).toBe(404);
    expect((await anon.request("GET", "/agent/medulla-agent-plan9-x64")).status).toBe(404);
    await t.addUser("admin", "correct horse battery", { isSuper: true });
    const admin = t.client("192.0.2.10");
    await admin.signIn("admin", "correct horse battery");
    const { res, html } = await admin.page("/enrollment");
    expect(res.status).toBe(200);
    expect(html).toContain('id="agent-downloads"');
    // From source the folder is dist/agent: either listed files or the "none" notice.
    const agents = listAgents();
    if (agents.length) {
      expect(html).toContain(`href="/agent/${agents[0]!.name}"`);
      const got = await anon.request("GET", `/agent/${agents[0]!.name}`);
      expect(got.status).toBe(200);
      expect(got.headers.get("content-disposition")).toContain(agents[0]!.name);
      expect(Number(got.headers.get("content-length") ?? (await got.arrayBuffer()).byteLength)).toBe(agents[0]!.size);
    } else expect(html).toContain("agent/");
  });
});
