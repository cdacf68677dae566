/**
 * Medulla package import: realistic conf.json + xmppdeploy.json fixtures (written for these
 * tests) are converted to our descriptor, which must validate; every action without an
 * equivalent is reported and kept as a log step, never dropped.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type Descriptor, type Step, validateDescriptor } from "../../src/features/packages/descriptor.ts";
import { asciiName, convertMedulla, maybeBase64 } from "../../src/features/packages/medulla.ts";
import { NAME_PATTERN } from "../../src/features/packages/descriptor.ts";

const dir = join(import.meta.dir, "..", "fixtures", "medulla");
async function load(name: string) {
  return { conf: JSON.parse(await Bun.file(join(dir, name, "conf.json")).text()), deploy: JSON.parse(await Bun.file(join(dir, name, "xmppdeploy.json")).text()) };
}
const byId = (steps: Step[] | undefined, id: string) => steps?.find((s) => s.id === id);

describe("Medulla fixtures", () => {
  test("Firefox for Windows: metadata, sections, scripts, return-code routing", async () => {
    const { conf, deploy } = await load("firefox-win");
    const { descriptor: d, warnings } = convertMedulla(conf, deploy);
    expect(validateDescriptor(d).errors).toEqual([]);
    expect(d.name).toBe("Mozilla Firefox ESR");
    expect(d.version).toBe("115.6.0");
    expect(d.targetOs).toEqual(["windows"]);
    expect(d.transfer).toEqual({ method: "push", bandwidthKbps: 4000 });
    expect(d.priority).toBe("high");
    expect(d.launcher).toBe("C:\\Program Files\\Mozilla Firefox\\firefox.exe");
    expect(d.inventory).toEqual({ associate: true, software: "Mozilla Firefox", version: "115.6.0" });
    expect(d.removeAfter).toBe(false);
    expect(d.inventoryAfter).toBe(true);
    const install = d.steps.windows!.install!;
    const msi = byId(install, "msi_0c3e")!;
    expect(msi.action).toBe("script");
    expect((msi as { script: string }).script).toBe('msiexec /i "{{package_dir}}\\Firefox Setup 115.6.0esr.msi" /qn /norestart');
    expect(msi.next).toEqual({ error: "END_ERROR", codes: [{ when: "==3010", goto: "REBOOT" }, { when: "==1641", goto: "REBOOT" }] });
    expect(byId(install, "REBOOT")!.action).toBe("reboot");
    expect(byId(install, "wait_9f2b")!.next).toEqual({ success: "END_SUCCESS" });
    expect((byId(install, "start_2f1a") as { message: string }).message).toBe("Installation de Firefox ESR sur {{hostname}}");
    const uninstall = d.steps.windows!.uninstall!;
    expect(uninstall.map((s) => s.action)).toEqual(["command", "end_success", "end_error"]);
    expect(warnings).toEqual([]);
  });

  test("Linux agent configuration: unmappable actions are kept and reported", async () => {
    const { conf, deploy } = await load("agent-config-linux");
    const { descriptor: d, warnings } = convertMedulla(conf, deploy, { resolveDependency: (u) => (u.startsWith("5d6c") ? { name: "Mozilla Firefox ESR", version: "115.6.0" } : null) });
    expect(validateDescriptor(d).errors).toEqual([]);
    expect(d.name).toBe("Configuration agent Linux");
    expect(d.transfer.method).toBe("pull");
    expect(d.dependencies).toEqual([{ name: "Mozilla Firefox ESR", version: "115.6.0" }]);
    const install = d.steps.linux!.install!;
    // Every Medulla step is still there, in order, with its id.
    expect(install.map((s) => s.id)).toEqual(["check_disk", "conf_loglevel", "dl_tools", "unzip_tools", "maint", "ask_reboot", "REBOOT", "clean", "END_SUCCESS", "END_ERROR"]);
    for (const id of ["conf_loglevel", "dl_tools", "REBOOT"]) {
      const s = byId(install, id) as { action: string; level: string; message: string };
      expect(s.action).toBe("log");
      expect(s.level).toBe("warning");
      expect(s.message).toContain("Original step");
    }
    expect((byId(install, "conf_loglevel") as { message: string }).message).toContain("log_level@__@DEBUG");
    expect(byId(install, "ask_reboot")!.next).toEqual({ success: "REBOOT", error: "clean" });
    expect((byId(install, "unzip_tools") as { destination: string }).destination).toBe("{{temp_dir}}/tools");
    const text = warnings.map((w) => `${w.where} ${w.message}`).join("\n");
    for (const expected of ["action_set_config_file", "action_download", "restarts the agent only", "gotoretry", "ffffffff-0000-4000-8000-000000000000", "reboot after installation", "legacy command \"/bin/true\"", "fullpath"]) {
      expect(text).toContain(expected);
    }
  });

  test("macOS: notification decoded, python kept, Korn shell and unknown actions reported", async () => {
    const { conf, deploy } = await load("notify-mac");
    const { descriptor: d, warnings } = convertMedulla(conf, deploy);
    expect(validateDescriptor(d).errors).toEqual([]);
    expect(d.targetOs).toEqual(["macos"]);
    const install = d.steps.macos!.install!;
    expect(install[0]).toMatchObject({ action: "user_notify", title: "Maintenance", message: "Une maintenance va commencer sur votre Mac.", timeout: 60 });
    expect(install[1]).toMatchObject({ action: "script", language: "python" });
    expect(warnings.some((w) => w.message.includes("unixKornshell"))).toBe(true);
    expect(warnings.some((w) => w.message.includes("action_frobnicate is unknown"))).toBe(true);
  });
});

describe("hostile or odd Medulla input", () => {
  const cases: [string, unknown, unknown][] = [
    ["nothing", null, null],
    ["arrays", [], []],
    ["sequence not a list", { name: "x" }, { win: { sequence: "nope" } }],
    ["steps not objects", { name: "x" }, { win: { sequence: [1, "a", null] } }],
    ["jumps to nowhere", { name: "x" }, { win: { sequence: [{ step: 0, action: "actionprocessscript", command: "a", succes: 99, error: "NOPE", "gotoreturncode@5": "ZZZ" }, { step: 1, action: "actionsuccescompletedend", actionlabel: "END_SUCCESS" }] } }],
    ["labels with odd characters", { name: "Ünïcödé/../pkg!", version: "1.0 beta/x" }, { win: { sequence: [{ step: 0, action: "action_comment", actionlabel: "a b/c", comment: "{{nope}}" }, { step: 1, action: "actionsuccescompletedend", actionlabel: "END_SUCCESS" }] } }],
    ["prototype keys", JSON.parse('{"__proto__":{"x":1},"name":"p"}'), JSON.parse('{"win":{"sequence":[{"step":0,"action":"__proto__","actionlabel":"constructor"}]}}')],
    ["huge sequence", { name: "big" }, { linux: { sequence: Array.from({ length: 2000 }, (_, i) => ({ step: i, action: "action_comment", comment: "x" })) } }],
    ["goto into another section", { name: "s" }, { win: { sequence: [{ step: 0, action: "action_section_install" }, { step: 1, action: "actionprocessscript", command: "a", succes: 3 }, { step: 2, action: "action_section_uninstall" }, { step: 3, action: "actionprocessscript", command: "b" }, { step: 4, action: "actionsuccescompletedend", actionlabel: "END_SUCCESS" }] } }],
  ];
  for (const [name, conf, deploy] of cases) {
    test(name, () => {
      const r = convertMedulla(conf, deploy);
      expect(r.descriptor.name).toMatch(new RegExp(NAME_PATTERN));
      // Whatever came in, the result is either valid or says why, field by field.
      const v = validateDescriptor(r.descriptor);
      for (const e of v.errors) expect(e.path.length).toBeGreaterThan(0);
      expect(({} as Record<string, unknown>).x).toBeUndefined();
    });
  }
  test("jumps to nowhere are reported and fall back to the default route", () => {
    const r = convertMedulla({ name: "x" }, cases[4]![2]);
    expect(r.warnings.filter((w) => w.message.includes("not a step of this sequence")).length).toBe(3);
    expect(validateDescriptor(r.descriptor).ok).toBe(true);
  });
  test("a name with accents is transliterated", () => {
    expect(asciiName("Installé Chrome (x64)", NAME_PATTERN, "x")).toBe("Installe Chrome _x64_");
    expect(maybeBase64("ls")).toBe("ls");
    expect(maybeBase64(Buffer.from("echo hé").toString("base64"))).toBe("echo hé");
    expect(maybeBase64(Buffer.from([0, 1, 2, 3, 255, 254]).toString("base64"))).not.toContain("\u0000");
  });
  test("a goto into another section is reported", () => {
    const r = convertMedulla({ name: "s" }, cases[8]![2]);
    expect(r.warnings.some((w) => w.message.includes("outside the install section"))).toBe(true);
    expect(validateDescriptor(r.descriptor).ok).toBe(true);
    expect(Object.keys((r.descriptor as Descriptor).steps.windows!)).toEqual(["install", "uninstall"]);
  });
});
