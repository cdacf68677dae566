import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { capOutput, OUTPUT, runStep, type StepContext } from "../../agent/src/deploy/steps.ts";
import { Pacer } from "../../agent/src/deploy/transfer.ts";
import { tempDirs } from "../support/tmp.ts";

const tmp = tempDirs("medulla-agent-steps-");
const ctx = (dir: string, extra: Partial<StepContext> = {}): StepContext => ({
  os: "linux", packageDir: dir, tempDir: join(dir, "tmp"), env: {}, vars: { package_dir: dir, hostname: "pc-01" }, signal: new AbortController().signal, ...extra,
});

describe("agent deployment steps", () => {
  test("output is capped: first and last lines, long lines cut, a note of what was left out", () => {
    const text = Array.from({ length: 1000 }, (_, i) => `line ${i}`).join("\n");
    const out = capOutput(text).split("\n");
    expect(out[0]).toBe("line 0");
    expect(out.at(-1)).toBe("line 999");
    expect(out).toContain(`… ${1000 - OUTPUT.headLines - OUTPUT.tailLines} lines left out …`);
    expect(capOutput("x".repeat(5000)).length).toBeLessThanOrEqual(OUTPUT.lineChars + 1);
    expect(capOutput("\u0000\u001b[31mred\r\nnext\n")).toBe("\u0000\u001b[31mred\nnext");
  });

  test("a command's return code and output; templates expanded; env from set_env", async () => {
    const dir = tmp();
    const r = await runStep({ id: "c", action: "command", command: 'echo "$GREETING from {{hostname}}"; exit 4' }, ctx(dir, { env: { GREETING: "hello" } }));
    expect(r).toMatchObject({ ok: false, code: 4, output: "hello from pc-01" });
    const env = await runStep({ id: "e", action: "set_env", variables: [{ name: "A", value: "{{hostname}}" }] }, ctx(dir));
    expect(env.env).toEqual({ A: "pc-01" });
  });

  test("a script with a timeout is killed and reported", async () => {
    const dir = tmp();
    const r = await runStep({ id: "s", action: "script", language: "shell", script: "echo started; sleep 30", timeout: 1 }, ctx(dir));
    expect(r).toMatchObject({ ok: false, code: -1 });
    expect(r.notes.join()).toContain("killed after its timeout of 1 s");
  });

  test("edit_settings sets and removes ini and json keys; a broken json file is left alone", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "app.ini"), "[server]\nport = 80\nold = 1\n");
    expect((await runStep({ id: "i", action: "edit_settings", file: "app.ini", format: "ini", changes: [{ section: "server", key: "port", value: 8080 }, { section: "server", key: "old", remove: true }] }, ctx(dir))).ok).toBe(true);
    expect(readFileSync(join(dir, "app.ini"), "utf8")).toContain("port = 8080");
    expect(readFileSync(join(dir, "app.ini"), "utf8")).not.toContain("old");
    writeFileSync(join(dir, "c.json"), '{"a":{"b":1}}');
    await runStep({ id: "j", action: "edit_settings", file: "c.json", format: "json", changes: [{ key: "a.c", value: true }, { key: "a.b", remove: true }] }, ctx(dir));
    expect(JSON.parse(readFileSync(join(dir, "c.json"), "utf8"))).toEqual({ a: { c: true } });
    writeFileSync(join(dir, "bad.json"), "{not json");
    expect((await runStep({ id: "j", action: "edit_settings", file: "bad.json", format: "json", changes: [{ key: "x", value: 1 }] }, ctx(dir))).ok).toBe(false);
    expect(readFileSync(join(dir, "bad.json"), "utf8")).toBe("{not json");
  });

  test("questions without a user session take their default; END_ERROR carries its message", async () => {
    const dir = tmp();
    expect(await runStep({ id: "q", action: "ask_user", question: "Now?", timeout: 60, default: "no" }, ctx(dir))).toMatchObject({ ok: false, code: 1 });
    expect((await runStep({ id: "x", action: "end_error", message: "boom" }, ctx(dir))).notes).toEqual(["END_ERROR: boom"]);
  });

  test("the pacer holds a transfer to its bandwidth", async () => {
    const p = new Pacer(800); // 100 kB/s
    const t0 = performance.now();
    await p.take(20_000, new AbortController().signal);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
  });
});
