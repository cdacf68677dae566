/**
 * The agent's side of quick actions and system actions: running scripts (exit code,
 * stderr, timeout, output cap cut on a character boundary, wrong OS refused), the /proc,
 * ps and df parsers (with hostile process names and escaped mount points), the
 * configuration file editor (password masked and kept, identity and bad values refused, a
 * backup kept), and a shell session in a real pseudo-terminal.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { maskSecrets, readConfigFile, writeConfigFile } from "../../agent/src/actions/configfile.ts";
import { OutputCap, refusal, runScript } from "../../agent/src/actions/script.ts";
import { ShellSessions, shellCommand } from "../../agent/src/actions/shell.ts";
import { parseDfP, parseMounts, parseProcNet, parseProcStat, parsePs, powerCommand, procAddress } from "../../agent/src/actions/system.ts";
import { handleBody } from "../../agent/src/handlers.ts";

describe("running a script", () => {
  test("exit code, stdout and stderr in order", async () => {
    const r = await runScript({ interpreter: "shell", script: "echo out\necho err >&2\nexit 7", timeoutSeconds: 10 });
    expect(r).toMatchObject({ exitCode: 7, output: "out\nerr\n", truncated: false, timedOut: false });
  });

  test("a timeout kills the whole process group", async () => {
    const r = await runScript({ interpreter: "shell", script: "echo begin; (sleep 30; echo never) & sleep 30", timeoutSeconds: 1 });
    expect(r).toMatchObject({ exitCode: null, timedOut: true, output: "begin\n" });
    expect(r.durationMs).toBeLessThan(10_000);
  });

  test("output is capped and marked", async () => {
    const r = await runScript({ interpreter: "shell", script: "i=0; while [ $i -lt 3000 ]; do echo 0123456789; i=$((i+1)); done", timeoutSeconds: 10, maxOutputBytes: 1000 });
    expect(r.truncated).toBe(true);
    expect(r.output.length).toBe(1000);
  });

  test("a cap never leaves half a character", () => {
    const cap = new OutputCap(5);
    cap.push(Buffer.from("abcdé"));
    expect(cap.truncated).toBe(true);
    expect(cap.text()).toBe("abcd");
  });

  test("wrong OS and missing interpreters are refused", async () => {
    expect(refusal({ interpreter: "cmd", os: "windows" }, "linux")).toContain("for windows");
    expect(refusal({ interpreter: "cmd" }, "linux")).toContain("not available");
    expect(refusal({ interpreter: "shell" }, "windows")).toContain("not available");
    expect(refusal({ interpreter: "powershell", os: "windows" }, "windows")).toBeNull();
    expect(runScript({ interpreter: "cmd", script: "dir", timeoutSeconds: 5, os: "windows" })).rejects.toThrow(/for windows/);
    // Through the handler: a failed action answers ret 1 with the reason.
    const h = await handleBody(JSON.stringify({ v: 1, action: "runscript", sessionid: "s", data: { interpreter: "cmd", script: "dir", os: "windows", timeoutSeconds: 5 } }), { facts: async () => ({}) as never, version: { version: "t", os: "linux", arch: "x64" }, now: () => 0 });
    expect(h.kind === "answer" && h.envelope.ret).toBe(1);
    expect(h.kind === "answer" && String(h.envelope.data.detail)).toContain("for windows");
  });

  test("hostile runscript data is refused before anything runs", async () => {
    const ctx = { facts: async () => ({}) as never, version: { version: "t", os: "linux", arch: "x64" }, now: () => 0 };
    for (const data of [{ interpreter: "bash", script: "x", timeoutSeconds: 1 }, { interpreter: "shell", script: "", timeoutSeconds: 1 }, { interpreter: "shell", script: "x", timeoutSeconds: 0 }, { interpreter: "shell", script: "x".repeat(40_000), timeoutSeconds: 1 }]) {
      const h = await handleBody(JSON.stringify({ v: 1, action: "runscript", sessionid: "s", data }), ctx);
      expect(h.kind === "answer" && h.envelope.ret).toBe(422);
    }
  });
});

describe("system parsers", () => {
  test("/proc/<pid>/stat with a name holding spaces and parentheses", () => {
    const line = "1234 (evil) (name x) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 100 123456 789 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0";
    expect(parseProcStat(line)).toEqual({ name: "evil) (name x", cpuSeconds: 3, rssPages: 789 });
    expect(parseProcStat("garbage")).toBeNull();
    expect(parseProcStat("1 (x) S")).toBeNull();
  });

  test("/proc/mounts: pseudo file systems skipped, escapes decoded", () => {
    const text = ["/dev/sda1 / ext4 rw 0 0", "proc /proc proc rw 0 0", "/dev/sdb1 /mnt/my\\040disk xfs rw 0 0", "tmpfs /run/user/0 tmpfs rw 0 0", "tmpfs /tmp tmpfs rw 0 0", "/dev/sda1 / ext4 rw 0 0", ""].join("\n");
    expect(parseMounts(text)).toEqual([
      { device: "/dev/sda1", mount: "/", type: "ext4" },
      { device: "/dev/sdb1", mount: "/mnt/my disk", type: "xfs" },
      { device: "tmpfs", mount: "/tmp", type: "tmpfs" },
    ]);
  });

  test("/proc/net addresses and states", () => {
    expect(procAddress("0100007F:1F90")).toBe("127.0.0.1:8080");
    expect(procAddress("00000000000000000000000001000000:0016")).toBe("[::1]:22");
    expect(procAddress("zz")).toBe("?:0");
    const tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0\n bad line\n";
    expect(parseProcNet(tcp, "tcp")).toEqual([{ proto: "tcp", local: "127.0.0.1:8080", remote: "0.0.0.0:0", state: "LISTEN", inode: 4242 }]);
  });

  test("ps and df as macOS prints them", () => {
    expect(parsePs("  1 root 1-02:03:04.50 1024 /sbin/launchd\n 88 alice 0:01.20 2048 /Applications/X.app/Contents/MacOS/X\nnonsense\n")).toEqual([
      { pid: 1, user: "root", cpuSeconds: 93784.5, rssKb: 1024, name: "launchd", command: "/sbin/launchd" },
      { pid: 88, user: "alice", cpuSeconds: 1.2, rssKb: 2048, name: "X", command: "/Applications/X.app/Contents/MacOS/X" },
    ]);
    expect(parseDfP("Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/disk3s1s1 239362496 10263744 120000000 8% /\nmap auto_home 0 0 0 100% /System/Volumes/Data/home\n")).toEqual([
      { device: "/dev/disk3s1s1", mount: "/", type: "", totalBytes: 239362496 * 1024, usedBytes: 10263744 * 1024, freeBytes: 120000000 * 1024 },
      { device: "map auto_home", mount: "/System/Volumes/Data/home", type: "", totalBytes: 0, usedBytes: 0, freeBytes: 0 },
    ]);
  });

  test("power commands per OS", () => {
    expect(powerCommand("reboot", 0, "linux")).toEqual(["shutdown", "-r", "now"]);
    expect(powerCommand("shutdown", 120, "darwin")).toEqual(["shutdown", "-h", "+2"]);
    expect(powerCommand("reboot", 30, "windows")).toEqual(["shutdown.exe", "/r", "/t", "30", "/c", "Medulla"]);
  });
});

describe("the agent's configuration file", () => {
  const ini = (extra = "") => `[server]\nurl = https://medulla.test:8443\ncafingerprint = sha256:${"a".repeat(64)}\ncafile = /etc/medulla-agent/ca.pem\n\n[xmpp]\njid = m1@medulla.test\npassword = s3cret-pw\nhost = medulla.test\ndomain = medulla.test\nserverjid = medulla@medulla.test\n\n[agent]\nid = 42\nheartbeat = 60\n${extra}`;

  test("read masks the password; a save keeps it, keeps a backup, and refuses bad or identity-changing files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "medulla-cfg-"));
    try {
      const path = join(dir, "agent.ini");
      writeFileSync(path, ini());
      const read = await readConfigFile(path);
      expect(read.content).not.toContain("s3cret-pw");
      expect(read.content).toContain("password = ********");
      expect(maskSecrets("PASSWORD=abc")).toBe("PASSWORD=********");

      const bad = await writeConfigFile(path, read.content.replace("heartbeat = 60", "heartbeat = 1"));
      expect(bad.saved).toBe(false);
      expect(bad.problems.join(" ")).toContain("heartbeat");
      const identity = await writeConfigFile(path, read.content.replace("id = 42", "id = 43"));
      expect(identity).toMatchObject({ saved: false, problems: [expect.stringContaining("[agent] id")] });
      const garbage = await writeConfigFile(path, "\u0000\u0001 not an ini [");
      expect(garbage.saved).toBe(false);
      expect(existsSync(`${path}.bak`)).toBe(false);
      expect(readFileSync(path, "utf8")).toBe(ini());

      const good = await writeConfigFile(path, read.content.replace("heartbeat = 60", "heartbeat = 90"));
      expect(good).toEqual({ saved: true, problems: [], backup: `${path}.bak` });
      const saved = readFileSync(path, "utf8");
      expect(saved).toContain("heartbeat = 90");
      expect(saved).toContain("password = s3cret-pw");
      expect(readFileSync(`${path}.bak`, "utf8")).toBe(ini());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(process.platform !== "linux")("a shell session in a pseudo-terminal", () => {
  test("the shell owns its terminal (setsid --ctty) when util-linux is there", () => {
    expect(shellCommand("/bin/sh", "linux")[0]).toMatch(/setsid$/);
    expect(shellCommand("/bin/zsh", "windows")).toEqual(["/bin/zsh", "-l"]);
  });

  test("input goes in, output comes back in order, exit is reported; Windows says what is missing", async () => {
    const sessions = new ShellSessions();
    const events: { action: string; data: Record<string, unknown> }[] = [];
    const emit = (action: string, data: Record<string, unknown>) => void events.push({ action, data });
    expect(await sessions.open("s1", 80, 24, emit)).toMatchObject({ opened: true });
    expect(await sessions.open("s1", 80, 24, emit)).toMatchObject({ opened: false });
    const text = () => Buffer.concat(events.filter((e) => e.action === "shelloutput").map((e) => Buffer.from(String(e.data.data), "base64"))).toString("utf8");
    sessions.input("s1", Buffer.from("echo $((40+2))-pty; stty size\n").toString("base64"));
    const deadline = Date.now() + 15_000;
    while (!/42-pty[\s\S]*24 80/.test(text()) && Date.now() < deadline) await Bun.sleep(50);
    expect(text()).toMatch(/42-pty[\s\S]*24 80/);
    sessions.resize("s1", 100, 30);
    sessions.input("s1", Buffer.from("stty size; exit\n").toString("base64"));
    while (!events.some((e) => e.action === "shellexit") && Date.now() < deadline) await Bun.sleep(50);
    expect(text()).toContain("30 100");
    expect(events.at(-1)).toMatchObject({ action: "shellexit", data: { sid: "s1", code: 0 } });
    const seqs = events.filter((e) => e.action === "shelloutput").map((e) => e.data.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(sessions.size).toBe(0);
    expect(await new ShellSessions({ os: "windows" }).open("w", 80, 24, emit)).toMatchObject({ opened: false, detail: expect.stringContaining("ConPTY") });
  }, 30_000);
});
