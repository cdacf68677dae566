/** The step editor and validation of the user-facing steps (question, deferral, notifications). */
import { describe, expect, test } from "bun:test";
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
