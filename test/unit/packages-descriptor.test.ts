import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import {
  type Descriptor,
  type Step,
  descriptorJsonSchema,
  emptyDescriptor,
  expandTemplate,
  matchCode,
  nextStepIndex,
  parseCodeCondition,
  parseDescriptor,
  validateDescriptor,
} from "../../src/features/packages/descriptor.ts";
import { DOC_PATH, updatedDoc } from "../../scripts/packages-doc.ts";

test("docs/packages.md matches descriptor.ts (run bun scripts/packages-doc.ts if not)", () => {
  const doc = readFileSync(DOC_PATH, "utf8");
  expect(updatedDoc(doc)).toBe(doc);
});

test("the documented JSON Schema names each definition once and every $ref resolves", () => {
  const schema = descriptorJsonSchema() as { $defs: Record<string, unknown> };
  const text = JSON.stringify(schema);
  for (const m of text.matchAll(/"\$ref":"#\/\$defs\/(\w+)"/g)) expect(Object.keys(schema.$defs)).toContain(m[1]!);
  expect(text.split('"const":"end_success"').length - 1).toBe(1);
});

function withSteps(install: unknown[], patch: Record<string, unknown> = {}): unknown {
  const d = emptyDescriptor("Install_Chrome", "1.0.0", ["windows"]) as unknown as Record<string, unknown>;
  return { ...d, ...patch, steps: { windows: { install } } };
}
const END = [
  { id: "END_SUCCESS", action: "end_success" },
  { id: "END_ERROR", action: "end_error" },
];
const cmd = (id: string, next?: unknown) => ({ id, action: "command", command: "setup.exe /S", timeout: 600, ...(next ? { next } : {}) });

describe("validateDescriptor: valid descriptors", () => {
  const cases: [string, unknown][] = [
    ["empty package", emptyDescriptor("Empty", "1.0", ["windows", "linux"])],
    ["command then ends", withSteps([cmd("run"), ...END])],
    [
      "every action",
      withSteps([
        { id: "env", action: "set_env", variables: [{ name: "LANG", value: "C" }] },
        { id: "dl", action: "download", url: "https://example.invalid/a.zip", file: "a.zip", sha256: "a".repeat(64) },
        { id: "uz", action: "unzip", archive: "a.zip", destination: "{{temp_dir}}/a" },
        { id: "sc", action: "script", language: "powershell", script: "Write-Host {{hostname}}", timeout: 60 },
        { id: "ed", action: "edit_settings", file: "C:/app/app.ini", format: "ini", changes: [{ section: "main", key: "server", value: "medulla" }] },
        { id: "ej", action: "edit_settings", file: "/etc/app.json", format: "json", changes: [{ key: "a.b", value: 3 }, { key: "c", remove: true }] },
        { id: "lg", action: "log", level: "info", message: "previous code {{previous_code}}" },
        { id: "kn", action: "kiosk_notify", message: "Chrome is coming" },
        { id: "un", action: "user_notify", title: "Hello", message: "Chrome", timeout: 10 },
        { id: "df", action: "defer", message: "Install now?", maxDeferrals: 3, delayMinutes: 60, timeout: 120 },
        { id: "q", action: "ask_user", question: "Reboot now?", timeout: 60, default: "no", next: { error: "END_SUCCESS" } },
        { id: "rb", action: "reboot", message: "Rebooting", delay: 30 },
        { id: "w", action: "wait", seconds: 10 },
        { id: "del", action: "delete_files", paths: ["{{package_dir}}/a.zip"] },
        ...END,
      ]),
    ],
    [
      "return-code routing",
      withSteps([
        cmd("run", { codes: [{ when: "==3010", goto: "reboot" }, { when: "1..5", goto: "END_ERROR" }, { when: "<0", goto: "END_ERROR" }, { when: "!=0", goto: "END_ERROR" }] }),
        { id: "ok", action: "log", level: "info", message: "done", next: { success: "END_SUCCESS" } },
        { id: "reboot", action: "reboot" },
        ...END,
      ]),
    ],
  ];
  for (const [name, d] of cases) {
    test(name, () => {
      const r = validateDescriptor(d);
      expect(r.errors).toEqual([]);
      expect(r.ok).toBe(true);
    });
  }
});

describe("validateDescriptor: broken descriptors", () => {
  const cases: [string, unknown, string, string][] = [
    ["not an object", null, "", "not_object"],
    ["an array", [], "", "not_object"],
    ["accented name", withSteps(END, { name: "Installé" }), "/name", "schema"],
    ["special characters in name", withSteps(END, { name: "a/b;rm" }), "/name", "schema"],
    ["bad version", withSteps(END, { version: "../1" }), "/version", "schema"],
    ["unknown field", withSteps(END, { colour: "red" }), "/colour", "schema"],
    ["unknown os", { ...(withSteps(END) as object), steps: { beos: { install: END } } }, "/steps/beos", "schema"],
    ["unknown section", { ...(withSteps(END) as object), steps: { windows: { install: END, repair: END } } }, "/steps/windows/repair", "schema"],
    ["unknown action", withSteps([{ id: "x", action: "format_disk" }, ...END]), "/steps/windows/install/0/action", "unknown_action"],
    ["action not a string", withSteps([{ id: "x", action: { $ne: 1 } }, ...END]), "/steps/windows/install/0/action", "unknown_action"],
    ["missing field", withSteps([{ id: "x", action: "command" }, ...END]), "/steps/windows/install/0/command", "schema"],
    ["unknown step field", withSteps([{ ...cmd("x"), rm: "-rf" }, ...END]), "/steps/windows/install/0/rm", "schema"],
    ["bad script language", withSteps([{ id: "x", action: "script", language: "bash", script: "a", timeout: 1 }, ...END]), "/steps/windows/install/0/language", "schema"],
    ["goto to nowhere (success)", withSteps([cmd("x", { success: "nowhere" }), ...END]), "/steps/windows/install/0/next/success", "goto_missing"],
    ["goto to nowhere (error)", withSteps([cmd("x", { error: "nowhere" }), ...END]), "/steps/windows/install/0/next/error", "goto_missing"],
    ["goto to nowhere (code)", withSteps([cmd("x", { codes: [{ when: "==1", goto: "nope" }] }), ...END]), "/steps/windows/install/0/next/codes/0/goto", "goto_missing"],
    ["bad code condition", withSteps([cmd("x", { codes: [{ when: "=>1", goto: "END_ERROR" }] }), ...END]), "/steps/windows/install/0/next/codes/0/when", "schema"],
    ["reversed range", withSteps([cmd("x", { codes: [{ when: "9..2", goto: "END_ERROR" }] }), ...END]), "/steps/windows/install/0/next/codes/0/when", "bad_code_condition"],
    ["duplicate ids", withSteps([cmd("x"), cmd("x"), ...END]), "/steps/windows/install/1/id", "duplicate_step_id"],
    ["no end_success", withSteps([cmd("x"), END[1]]), "/steps/windows/install", "no_end_success"],
    ["falls off the end", withSteps([...END.slice().reverse(), cmd("x")]), "/steps/windows/install/2", "falls_off_end"],
    [
      "end_success unreachable",
      withSteps([cmd("x", { success: "END_ERROR" }), { id: "END_SUCCESS", action: "end_success" }, { id: "END_ERROR", action: "end_error" }]),
      "/steps/windows/install/1",
      "end_unreachable",
    ],
    ["endless loop", withSteps([cmd("a"), { id: "w", action: "wait", seconds: 1, next: { success: "w", error: "w" } }, ...END]), "/steps/windows/install/1", "no_way_out"],
    ["unknown template variable", withSteps([{ id: "x", action: "log", level: "info", message: "{{password}}" }, ...END]), "/steps/windows/install/0/message", "unknown_variable"],
    ["download escaping the folder", withSteps([{ id: "d", action: "download", url: "https://x.invalid/a", file: "../../etc/passwd", sha256: "b".repeat(64) }, ...END]), "/steps/windows/install/0/file", "bad_file_name"],
    ["download bad checksum", withSteps([{ id: "d", action: "download", url: "https://x.invalid/a", file: "a", sha256: "xyz" }, ...END]), "/steps/windows/install/0/sha256", "schema"],
    ["download non-http url", withSteps([{ id: "d", action: "download", url: "file:///etc/passwd", file: "a", sha256: "b".repeat(64) }, ...END]), "/steps/windows/install/0/url", "schema"],
    ["target os without steps", withSteps(END, { targetOs: ["windows", "linux"] }), "/steps/linux/install", "os_section_missing"],
    ["step not an object", withSteps([42, ...END]), "/steps/windows/install/0", "not_object"],
    ["huge section", withSteps(Array.from({ length: 5000 }, (_, i) => cmd(`s${i}`))), "/steps/windows/install", "schema"],
    ["huge string", withSteps([{ ...cmd("x"), command: "a".repeat(100_000) }, ...END]), "/steps/windows/install/0/command", "schema"],
    ["__proto__ key", JSON.parse('{"__proto__":{"polluted":1},"steps":{}}'), "/format", "schema"],
  ];
  for (const [name, d, path, code] of cases) {
    test(name, () => {
      const r = validateDescriptor(d);
      expect(r.ok).toBe(false);
      expect(r.descriptor).toBeUndefined();
      expect(r.errors.map((e) => `${e.path} ${e.code}`)).toContain(`${path} ${code}`);
      for (const e of r.errors) expect(e.message.length).toBeGreaterThan(0);
    });
  }
  test("prototype not polluted", () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
  test("unreachable steps are warnings", () => {
    const r = validateDescriptor(withSteps([cmd("x", { success: "END_SUCCESS" }), cmd("dead"), ...END]));
    expect(r.ok).toBe(true);
    expect(r.warnings.map((w) => w.code)).toContain("step_unreachable");
  });
  test("invalid JSON text", () => {
    const r = parseDescriptor("{ nope");
    expect(r.ok).toBe(false);
    expect(r.errors[0]!.message).toContain("not valid JSON");
  });
  test("deeply nested garbage does not throw", () => {
    let v: unknown = {};
    for (let i = 0; i < 5000; i++) v = { a: v };
    expect(validateDescriptor({ ...(withSteps(END) as object), description: v }).ok).toBe(false);
  });
});

describe("dependencies", () => {
  const pkg = (name: string, deps: string[]) => ({ ...emptyDescriptor(name), dependencies: deps.map((n) => ({ name: n })) }) as Descriptor;
  const all: Record<string, Descriptor> = { A: pkg("A", ["B"]), B: pkg("B", ["C"]), C: pkg("C", ["A"]), D: pkg("D", ["E"]), E: pkg("E", []) };
  const lookup = (d: { name: string }) => all[d.name];
  test("cycle is reported with its path", () => {
    const r = validateDescriptor(all.A, { lookup });
    expect(r.errors[0]!.code).toBe("dependency_cycle");
    expect(r.errors[0]!.message).toContain("A 1.0.0 → B 1.0.0 → C 1.0.0 → A 1.0.0");
  });
  test("missing dependency", () => {
    const r = validateDescriptor(pkg("X", ["Nope"]), { lookup });
    expect(r.errors.map((e) => `${e.path} ${e.code}`)).toEqual(["/dependencies/0 dependency_missing"]);
  });
  test("self dependency", () => {
    expect(validateDescriptor(pkg("E", ["E"]), { lookup }).errors.map((e) => e.code)).toContain("dependency_self");
  });
  test("a chain without cycle is fine", () => {
    expect(validateDescriptor(all.D, { lookup }).ok).toBe(true);
  });
});

describe("routing", () => {
  test("conditions", () => {
    const t: [string, number, boolean][] = [
      ["==0", 0, true], ["==0", 1, false], ["!=0", 1, true], ["<0", -1, true], ["<0", 0, false], ["<=2", 2, true],
      [">1", 2, true], [">=3010", 3010, true], ["1..5", 5, true], ["1..5", 6, false], ["-5..-1", -3, true], [" == 7 ", 7, true],
    ];
    for (const [c, code, want] of t) expect(`${c} ${code} ${matchCode(c, code)}`).toBe(`${c} ${code} ${want}`);
    for (const bad of ["", "=1", "1", "==", "5..1", "==1.5", "==99999999999", "..2"]) expect(parseCodeCondition(bad)).toBeNull();
  });
  test("next step", () => {
    const steps = [cmd("a", { codes: [{ when: "==3010", goto: "c" }] }), cmd("b", { error: "c" }), { id: "c", action: "end_success" }, { id: "e", action: "end_error" }] as Step[];
    expect(nextStepIndex(steps, 0, { ok: true, code: 0 })).toBe(1);
    expect(nextStepIndex(steps, 0, { ok: false, code: 3010 })).toBe(2);
    expect(nextStepIndex(steps, 0, { ok: false, code: 1 })).toBe(3);
    expect(nextStepIndex(steps, 1, { ok: false, code: 1 })).toBe(2);
    expect(nextStepIndex(steps, 2, { ok: true })).toBeNull();
  });
  test("templates", () => {
    expect(expandTemplate("{{package_dir}}/setup.exe {{ hostname }} {{unknown}}", { package_dir: "C:/p", hostname: "pc1" })).toBe("C:/p/setup.exe pc1 {{unknown}}");
    expect(expandTemplate("{{constructor}}", {})).toBe("{{constructor}}");
  });
});
