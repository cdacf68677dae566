/** The step editor and validation of the user-facing steps (question, deferral, notifications). */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "../../src/app.ts";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase } from "../../src/db/index.ts";
import { hashPassword } from "../../src/features/auth/password.ts";
import { emptyDescriptor } from "../../src/features/packages/descriptor.ts";
import { silentLogger } from "../../src/log.ts";
import { Client } from "../support/app.ts";
import { validateSection } from "../../src/features/packages/descriptor.ts";
import { ACTION_FIELDS, formToStep, newStep, stepToForm } from "../../src/features/packages/step-form.ts";

describe("user-facing steps in the editor", () => {
  test("every field of the question and the deferral has a form field", () => {
    expect(ACTION_FIELDS.ask_user.map((f) => f.name)).toEqual(["title", "question", "yesLabel", "noLabel", "timeout", "default"]);
    expect(ACTION_FIELDS.defer.map((f) => f.name)).toEqual(["message", "maxDeferrals", "delayMinutes", "timeout", "title", "installLabel", "postponeLabel", "atLimit"]);
    expect(ACTION_FIELDS.user_notify.map((f) => f.name)).toEqual(["title", "message", "timeout"]);
    expect(ACTION_FIELDS.kiosk_notify.map((f) => f.name)).toEqual(["message"]);
  });

  test("a new deferral has working defaults; form ⇄ step round trip", () => {
    const f = newStep("defer", new Set(), "linux");
    expect(f).toMatchObject({ maxDeferrals: "3", delayMinutes: "60", timeout: "300", atLimit: "notify" });
    const step = formToStep({ ...f, message: "Updates", installLabel: "Installer", postponeLabel: "Plus tard", next: "" } as never);
    expect(step).toMatchObject({ action: "defer", message: "Updates", maxDeferrals: 3, delayMinutes: 60, timeout: 300, installLabel: "Installer", postponeLabel: "Plus tard", atLimit: "notify" });
    expect(stepToForm(step as never)).toMatchObject({ installLabel: "Installer", atLimit: "notify" });
  });

  test("validation: limits, timeouts too short for a person, a deferral after working steps warned", () => {
    const bad = validateSection([
      { id: "run", action: "command", command: "x" },
      { id: "d", action: "defer", message: "m", maxDeferrals: 0, delayMinutes: 60, timeout: 300, atLimit: "maybe" },
      { id: "q", action: "ask_user", question: "?", timeout: 3, default: "yes" },
      { id: "ok", action: "end_success" },
    ], "/steps/linux/install");
    const codes = bad.errors.map((e) => `${e.path} ${e.code}`);
    expect(codes).toContain("/steps/linux/install/2/timeout prompt_timeout");
    expect(codes.some((c) => c.startsWith("/steps/linux/install/1/maxDeferrals"))).toBe(true);
    expect(codes.some((c) => c.startsWith("/steps/linux/install/1/atLimit"))).toBe(true);
    expect(bad.warnings.map((w) => w.code)).toContain("defer_not_first");
    const good = validateSection([
      { id: "tell", action: "user_notify", message: "An update is coming" },
      { id: "d", action: "defer", message: "Updates: {{deferrals_left}} postponement(s) left", maxDeferrals: 3, delayMinutes: 60, timeout: 300 },
      { id: "ok", action: "end_success" },
    ], "/steps/linux/install");
    expect(good.errors).toEqual([]);
    expect(good.warnings).toEqual([]);
  });
});

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

describe("the step editor page", () => {
  test("adds a deferral with every field shown, translated choices, and refuses a 5-second question", async () => {
    const dir = mkdtempSync(join(tmpdir(), "medulla-prompt-editor-"));
    roots.push(dir);
    const db = openDatabase(":memory:");
    const app = buildApp({ db, clock: new ManualClock(Date.UTC(2026, 5, 1, 12)), log: silentLogger, packagesDir: dir });
    db.query("INSERT INTO users (login, password_hash, is_super, must_change_password, created_at, updated_at) VALUES ('root', ?, 1, 0, 0, 0)").run(await hashPassword("Correct-horse-7"));
    const c = new Client(app, "192.0.2.10");
    await c.signIn("root", "Correct-horse-7");
    const id = app.packages.create(null, emptyDescriptor("Prompts", "1.0"), [], "empty");
    await c.page(`/packages/${id}/steps?os=windows&section=install`);
    const post = (form: Record<string, string>) => c.post(`/packages/${id}/steps?os=windows&section=install`, form);
    let res = await post({ "s.0.action": "end_success", "s.0.id": "END_SUCCESS", op: "add", newAction: "defer" });
    let html = await res.text();
    for (const f of ["message", "maxDeferrals", "delayMinutes", "timeout", "title", "installLabel", "postponeLabel", "atLimit"]) expect(html).toContain(`name="s.0.${f}"`);
    expect(html).toContain("Prévenir l&#x27;utilisateur puis installer");
    expect(html).toContain("Reports autorisés");
    const form = {
      "s.0.action": "defer", "s.0.id": "later", "s.0.message": "Mises à jour prêtes", "s.0.maxDeferrals": "3", "s.0.delayMinutes": "120", "s.0.timeout": "300", "s.0.installLabel": "Installer", "s.0.postponeLabel": "Plus tard", "s.0.atLimit": "notify",
      "s.1.action": "ask_user", "s.1.id": "q", "s.1.question": "Fermer Outlook ?", "s.1.timeout": "5", "s.1.default": "yes",
      "s.2.action": "end_success", "s.2.id": "END_SUCCESS",
    };
    res = await post({ ...form, op: "save" });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain("l&#x27;utilisateur doit avoir au moins 10 s pour répondre");
    res = await post({ ...form, "s.1.timeout": "60", op: "save" });
    expect(res.status).toBe(303);
    const steps = app.packages.descriptor(id).steps.windows!.install!;
    expect(steps[0]).toMatchObject({ action: "defer", maxDeferrals: 3, delayMinutes: 120, installLabel: "Installer", postponeLabel: "Plus tard", atLimit: "notify" });
    expect(steps[1]).toMatchObject({ action: "ask_user", timeout: 60, default: "yes" });
  });
});
