import { describe, expect, test } from "bun:test";
import { currentProgram, describePlan, installPlan, serviceManagerProblem, uninstallPlan } from "../../agent/src/service/index.ts";
import { launchdPlist } from "../../agent/src/service/launchd.ts";
import { shellLine } from "../../agent/src/service/plan.ts";
import { systemdQuote, systemdUnit, UNIT_PATH } from "../../agent/src/service/systemd.ts";
import { windowsBinPath, windowsQuote } from "../../agent/src/service/windows.ts";

const linux = { program: ["/usr/local/sbin/medulla-agent"], configPath: "/etc/medulla-agent/agent.ini" };

describe("systemd", () => {
  test("unit file", () => {
    const unit = systemdUnit(linux);
    expect(unit).toContain("ExecStart=/usr/local/sbin/medulla-agent run --config /etc/medulla-agent/agent.ini\n");
    expect(unit).toContain("Restart=always\n");
    expect(unit).toContain("After=network-online.target\n");
    expect(unit).toContain("WantedBy=multi-user.target\n");
  });

  test("paths with spaces, quotes and % are quoted for systemd", () => {
    expect(systemdQuote("/opt/my agent/bin")).toBe('"/opt/my agent/bin"');
    expect(systemdQuote('/a"b')).toBe('"/a\\"b"');
    expect(systemdQuote("/etc/50%.ini")).toBe("/etc/50%%.ini");
    expect(systemdUnit({ program: ["/usr/bin/bun", "/src/agent/main.ts"], configPath: "/etc/x y.ini" })).toContain('ExecStart=/usr/bin/bun /src/agent/main.ts run --config "/etc/x y.ini"\n');
  });

  test("install and uninstall plans", () => {
    expect(installPlan("linux", linux)).toEqual({
      manager: "systemd",
      steps: [
        { kind: "write", path: UNIT_PATH, content: systemdUnit(linux), mode: 0o644 },
        { kind: "run", argv: ["systemctl", "daemon-reload"] },
        { kind: "run", argv: ["systemctl", "enable", "medulla-agent.service"] },
        { kind: "run", argv: ["systemctl", "restart", "medulla-agent.service"] },
      ],
    });
    expect(uninstallPlan("linux")!.steps.map((s) => (s.kind === "run" ? shellLine(s.argv) : `${s.kind} ${s.path}`))).toEqual([
      "systemctl disable --now medulla-agent.service",
      `remove ${UNIT_PATH}`,
      "systemctl daemon-reload",
    ]);
  });

  test("without systemd as PID 1, install says so", () => {
    expect(serviceManagerProblem("linux", { exists: () => false, read: () => "tini\n" })).toContain('systemd is not running on this machine (PID 1 is "tini")');
    expect(serviceManagerProblem("linux", { exists: (p) => p === "/run/systemd/system", read: () => "systemd" })).toBeNull();
  });
});

describe("Windows service", () => {
  const win = { program: ["C:\\Program Files\\Medulla\\medulla-agent.exe"], configPath: "C:\\ProgramData\\Medulla\\agent.ini" };

  test("binPath quotes paths with spaces", () => {
    expect(windowsBinPath(win)).toBe('"C:\\Program Files\\Medulla\\medulla-agent.exe" run --config C:\\ProgramData\\Medulla\\agent.ini');
    expect(windowsQuote('a "b"')).toBe('"a \\"b\\""');
    expect(windowsQuote("C:\\dir with space\\")).toBe('"C:\\dir with space\\\\"');
    expect(windowsQuote("")).toBe('""');
  });

  test("sc.exe command lines", () => {
    expect(installPlan("windows", win)!.steps).toEqual([
      { kind: "run", argv: ["sc.exe", "stop", "MedullaAgent"], mayFail: true },
      { kind: "run", argv: ["sc.exe", "delete", "MedullaAgent"], mayFail: true },
      { kind: "run", argv: ["sc.exe", "create", "MedullaAgent", "binPath=", windowsBinPath(win), "start=", "auto", "DisplayName=", "Medulla agent"] },
      { kind: "run", argv: ["sc.exe", "description", "MedullaAgent", "Calls home to the Medulla appliance and carries out its requests."] },
      { kind: "run", argv: ["sc.exe", "failure", "MedullaAgent", "reset=", "86400", "actions=", "restart/5000/restart/30000/restart/60000"] },
      { kind: "run", argv: ["sc.exe", "failureflag", "MedullaAgent", "1"] },
      { kind: "run", argv: ["sc.exe", "start", "MedullaAgent"] },
    ]);
    expect(uninstallPlan("windows")!.steps).toEqual([
      { kind: "run", argv: ["sc.exe", "stop", "MedullaAgent"], mayFail: true },
      { kind: "run", argv: ["sc.exe", "delete", "MedullaAgent"] },
    ]);
  });
});

describe("launchd", () => {
  const mac = { program: ["/usr/local/bin/medulla-agent"], configPath: "/Library/Application Support/Medulla/agent.ini" };

  test("plist", () => {
    const plist = launchdPlist(mac);
    expect(plist).toContain("<string>org.medulla.agent</string>");
    expect(plist).toContain("\t\t<string>/usr/local/bin/medulla-agent</string>\n\t\t<string>run</string>\n\t\t<string>--config</string>\n\t\t<string>/Library/Application Support/Medulla/agent.ini</string>\n");
    expect(plist).toContain("<key>KeepAlive</key>\n\t<true/>");
    expect(launchdPlist({ program: ["/a&b<c>"], configPath: "x" })).toContain("<string>/a&amp;b&lt;c&gt;</string>");
  });

  test("launchctl command lines", () => {
    const lines = describePlan(installPlan("darwin", mac)!).map((l) => l.split("\n")[0]);
    expect(lines).toEqual([
      "run   mkdir -p /Library/Logs/Medulla",
      "run   launchctl bootout system/org.medulla.agent   (may fail)",
      "write /Library/LaunchDaemons/org.medulla.agent.plist (mode 644):",
      "run   launchctl bootstrap system /Library/LaunchDaemons/org.medulla.agent.plist",
      "run   launchctl enable system/org.medulla.agent",
    ]);
  });
});

test("the program to start: the compiled binary alone, or bun with the entry", () => {
  expect(currentProgram("/usr/local/sbin/medulla-agent", "/$bunfs/root/medulla-agent")).toEqual(["/usr/local/sbin/medulla-agent"]);
  expect(currentProgram("C:\\x\\medulla-agent.exe", "B:/~BUN/root/medulla-agent.exe")).toEqual(["C:\\x\\medulla-agent.exe"]);
  expect(currentProgram("/usr/bin/bun", "/src/agent/main.ts")).toEqual(["/usr/bin/bun", "/src/agent/main.ts"]);
});
