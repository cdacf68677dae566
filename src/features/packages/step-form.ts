/**
 * @module packages/step-form
 * The step editor's form ⇄ steps. Each step is a group of fields named `s.<i>.<field>`;
 * lists (variables, paths, settings changes, return-code rules) are edited one per line.
 * `formToSteps` builds raw steps that `validateDescriptor` then judges, so whatever the
 * browser sends (edited or hostile) gets field-level errors, never a crash. The field list
 * per action (`ACTION_FIELDS`) drives the rendering.
 */
import type { MessageKey, T } from "../../i18n/index.ts";
import { type DescriptorIssue, SCRIPT_LANGUAGES, STEP_ACTIONS, type Step, type StepAction } from "./descriptor.ts";

export type FieldKind = "text" | "textarea" | "number" | "select";
export interface FieldDef {
  name: string;
  kind: FieldKind;
  label: MessageKey;
  options?: { value: string; label: MessageKey | string }[];
  required?: boolean;
}

const f = (name: string, kind: FieldKind, label: MessageKey, extra: Partial<FieldDef> = {}): FieldDef => ({ name, kind, label, ...extra });
const timeout = f("timeout", "number", "packages.f.timeout");

export const ACTION_FIELDS: Record<StepAction, FieldDef[]> = {
  command: [f("command", "textarea", "packages.f.command", { required: true }), timeout, f("workdir", "text", "packages.f.workdir")],
  script: [
    f("language", "select", "packages.f.language", { options: SCRIPT_LANGUAGES.map((l) => ({ value: l, label: l })) }),
    f("script", "textarea", "packages.f.script", { required: true }),
    { ...timeout, required: true },
  ],
  set_env: [f("variables", "textarea", "packages.f.variables", { required: true })],
  reboot: [f("message", "text", "packages.f.message"), f("delay", "number", "packages.f.delay")],
  wait: [f("seconds", "number", "packages.f.seconds", { required: true })],
  log: [
    f("level", "select", "packages.f.level", { options: ["info", "warning", "error"].map((l) => ({ value: l, label: l })) }),
    f("message", "textarea", "packages.f.message", { required: true }),
  ],
  edit_settings: [
    f("file", "text", "packages.f.file", { required: true }),
    f("format", "select", "packages.f.format", { options: [{ value: "ini", label: "ini" }, { value: "json", label: "json" }] }),
    f("changes", "textarea", "packages.f.changes", { required: true }),
  ],
  unzip: [f("archive", "text", "packages.f.archive", { required: true }), f("destination", "text", "packages.f.destination")],
  download: [f("url", "text", "packages.f.url", { required: true }), f("file", "text", "packages.f.fileName", { required: true }), f("sha256", "text", "packages.f.sha256", { required: true }), timeout],
  delete_files: [f("paths", "textarea", "packages.f.paths", { required: true })],
  kiosk_notify: [f("message", "textarea", "packages.f.message", { required: true })],
  user_notify: [f("title", "text", "packages.f.title"), f("message", "textarea", "packages.f.message", { required: true }), f("timeout", "number", "packages.f.timeout")],
  ask_user: [
    f("title", "text", "packages.f.title"),
    f("question", "textarea", "packages.f.question", { required: true }),
    f("yesLabel", "text", "packages.f.yesLabel"),
    f("noLabel", "text", "packages.f.noLabel"),
    { ...timeout, required: true },
    f("default", "select", "packages.f.default", { options: [{ value: "no", label: "packages.f.no" }, { value: "yes", label: "packages.f.yes" }] }),
  ],
  defer: [
    f("message", "textarea", "packages.f.message", { required: true }),
    f("maxDeferrals", "number", "packages.f.maxDeferrals", { required: true }),
    f("delayMinutes", "number", "packages.f.delayMinutes", { required: true }),
    { ...timeout, required: true },
    f("title", "text", "packages.f.title"),
    f("installLabel", "text", "packages.f.installLabel"),
    f("postponeLabel", "text", "packages.f.postponeLabel"),
    f("atLimit", "select", "packages.f.atLimit", { options: [{ value: "notify", label: "packages.f.atLimit.notify" }, { value: "silent", label: "packages.f.atLimit.silent" }, { value: "error", label: "packages.f.atLimit.error" }] }),
  ],
  end_success: [],
  end_error: [f("message", "text", "packages.f.message")],
};

/** One step as the form holds it: every value a string. */
export type StepForm = Record<string, string> & { action: string };

const lines = (s: string) => s.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);

/** Form values of a step (the inverse of `formToStep`). */
export function stepToForm(step: Step): StepForm {
  const s = step as unknown as Record<string, unknown>;
  const out: StepForm = { action: step.action, id: step.id, label: step.label ?? "", success: step.next?.success ?? "", error: step.next?.error ?? "", codes: (step.next?.codes ?? []).map((c) => `${c.when} ${c.goto}`).join("\n") };
  for (const def of ACTION_FIELDS[step.action] ?? []) {
    const v = s[def.name];
    if (def.name === "variables" && Array.isArray(v)) out.variables = v.map((x: { name: string; value: string }) => `${x.name}=${x.value}`).join("\n");
    else if (def.name === "paths" && Array.isArray(v)) out.paths = v.join("\n");
    else if (def.name === "changes" && Array.isArray(v)) {
      out.changes = v
        .map((c: { section?: string; key: string; value?: unknown; remove?: boolean }) => {
          const sec = c.section ? `[${c.section}] ` : "";
          if (c.remove) return `${sec}-${c.key}`;
          return `${sec}${c.key}=${typeof c.value === "string" ? c.value : JSON.stringify(c.value ?? null)}`;
        })
        .join("\n");
    } else out[def.name] = v === undefined || v === null ? "" : String(v);
  }
  return out;
}

/** A new step of `action` with an id not in `taken`. */
export function newStep(action: StepAction, taken: ReadonlySet<string>, os: string): StepForm {
  let id: string = action === "end_success" ? "END_SUCCESS" : action === "end_error" ? "END_ERROR" : action;
  for (let n = 2; taken.has(id); n++) id = `${action === "end_success" ? "END_SUCCESS" : action === "end_error" ? "END_ERROR" : action}_${n}`;
  const defaults: Partial<Record<StepAction, Record<string, string>>> = {
    command: { command: "", timeout: "900" },
    script: { language: os === "windows" ? "powershell" : "shell", script: "", timeout: "900" },
    wait: { seconds: "10" },
    log: { level: "info", message: "" },
    edit_settings: { format: "ini" },
    ask_user: { timeout: "300", default: "no" },
    defer: { maxDeferrals: "3", delayMinutes: "60", timeout: "300", atLimit: "notify" },
  };
  return { action, id, label: "", success: "", error: "", codes: "", ...(defaults[action] ?? {}) } as StepForm;
}

/** Raw steps from form values; numbers stay strings when they are not integers, so validation names them. */
export function formToStep(form: StepForm): Record<string, unknown> {
  const action = form.action;
  const step: Record<string, unknown> = { id: (form.id ?? "").trim(), action };
  if ((form.label ?? "").trim()) step.label = form.label!.trim();
  const defs = (STEP_ACTIONS as string[]).includes(action) ? ACTION_FIELDS[action as StepAction] : [];
  for (const def of defs) {
    const raw = form[def.name] ?? "";
    const v = def.kind === "textarea" ? raw.replace(/\r\n/g, "\n") : raw.trim();
    if (def.name === "variables") {
      step.variables = lines(v).map((l) => {
        const i = l.indexOf("=");
        return i < 0 ? { name: l, value: "" } : { name: l.slice(0, i).trim(), value: l.slice(i + 1) };
      });
    } else if (def.name === "paths") {
      step.paths = lines(v);
    } else if (def.name === "changes") {
      step.changes = lines(v).map((l) => parseChange(l, form.format === "json"));
    } else if (v === "") {
      if (def.required && def.kind !== "number") step[def.name] = "";
    } else if (def.kind === "number") {
      step[def.name] = /^-?\d{1,12}$/.test(v) ? Number(v) : v;
    } else step[def.name] = v;
  }
  const next: Record<string, unknown> = {};
  if ((form.success ?? "").trim()) next.success = form.success!.trim();
  if ((form.error ?? "").trim()) next.error = form.error!.trim();
  const codes = lines(form.codes ?? "").map((l) => {
    const m = /^(.*\S)\s+(\S+)$/.exec(l);
    return m ? { when: m[1]!.replace(/\s+/g, ""), goto: m[2]! } : { when: l, goto: "" };
  });
  if (codes.length) next.codes = codes;
  if (Object.keys(next).length) step.next = next;
  return step;
}

function parseChange(line: string, json: boolean): Record<string, unknown> {
  let rest = line;
  const out: Record<string, unknown> = {};
  const sec = /^\[([^\]]*)\]\s*(.*)$/.exec(rest);
  if (sec) {
    out.section = sec[1]!.trim();
    rest = sec[2]!;
  }
  if (rest.startsWith("-")) return { ...out, key: rest.slice(1).trim(), remove: true };
  const i = rest.indexOf("=");
  const key = (i < 0 ? rest : rest.slice(0, i)).trim();
  let value: unknown = i < 0 ? "" : rest.slice(i + 1).trim();
  if (json && typeof value === "string" && /^(-?\d+(\.\d+)?|true|false|null|".*")$/.test(value)) {
    try {
      value = JSON.parse(value);
    } catch {
      /* keep the text */
    }
  }
  return { ...out, key, value };
}

/** Steps as the form sent them: `s.<i>.<field>`, in index order, at most `max`. */
export function readStepForms(body: Record<string, unknown>, max = 200): StepForm[] {
  const byIndex = new Map<number, StepForm>();
  for (const [k, v] of Object.entries(body)) {
    const m = /^s\.(\d{1,3})\.([A-Za-z]{1,32})$/.exec(k);
    if (!m) continue;
    const i = Number(m[1]);
    if (i >= max) continue;
    const step = byIndex.get(i) ?? ({ action: "" } as StepForm);
    step[m[2]!] = typeof v === "string" ? v.slice(0, 70_000) : Array.isArray(v) ? String(v[v.length - 1] ?? "") : "";
    byIndex.set(i, step);
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s);
}

/** Applies an editor operation (`add`, `up:i`, `down:i`, `remove:i`) to the steps. */
export function applyOp(steps: StepForm[], op: string, newAction: string, os: string): StepForm[] {
  const out = [...steps];
  const m = /^(up|down|remove):(\d{1,3})$/.exec(op);
  if (op === "add" && (STEP_ACTIONS as string[]).includes(newAction)) {
    const step = newStep(newAction as StepAction, new Set(out.map((s) => s.id ?? "")), os);
    // New working steps go before the END steps; END steps go last.
    const firstEnd = out.findIndex((s) => s.action === "end_success" || s.action === "end_error");
    if (newAction.startsWith("end_") || firstEnd < 0) out.push(step);
    else out.splice(firstEnd, 0, step);
  } else if (m) {
    const i = Number(m[2]);
    if (i >= out.length) return out;
    if (m[1] === "remove") out.splice(i, 1);
    else {
      const j = m[1] === "up" ? i - 1 : i + 1;
      if (j >= 0 && j < out.length) [out[i], out[j]] = [out[j]!, out[i]!];
    }
  }
  return out;
}

/** An issue, translated, with its path shown the way an administrator reads it. */
export function issueText(t: T, issue: DescriptorIssue): string {
  const m = /^\/steps\/(\w+)\/(\w+)(?:\/(\d+))?(\/.*)?$/.exec(issue.path);
  const field = m ? `${m[1]} › ${m[2]}${m[3] !== undefined ? ` › #${Number(m[3]) + 1}` : ""}${m[4] ? ` ${m[4].slice(1).replace(/\//g, ".")}` : ""}` : issue.path.slice(1).replace(/\//g, ".") || "/";
  const params = { field, detail: issue.message, ...(issue.params ?? {}) } as Record<string, string | number>;
  params.field = field;
  return t(`packages.issue.${issue.code}` as MessageKey, params);
}
