/**
 * @module packages/descriptor
 * The package descriptor `medulla-package.json` (DESIGN.md "Packages", SPEC P2): the
 * metadata of a package and, per operating system, its ordered steps in the sections
 * install / update / uninstall / launch. Declared once with TypeBox (JSON Schema + static
 * types); docs/packages.md carries the JSON Schema generated from here
 * (`bun scripts/packages-doc.ts`).
 *
 * Routing: a step ends with an outcome (`ok` or not) and, for steps that run something, a
 * return code. The next step is, in order: the first `next.codes` rule whose condition
 * matches the code (`==n`, `!=n`, `<n`, `<=n`, `>n`, `>=n`, `a..b` inclusive), else
 * `next.success` / `next.error`, else the defaults: on success the following step, on error
 * the section's first `end_error` step. A target is a step `id` of the same section. A
 * section finishes only on an `end_success` or `end_error` step.
 *
 * Template variables `{{name}}` (see TEMPLATE_VARIABLES) are expanded by the agent in every
 * string field of a step just before it runs.
 *
 * Exported names are a contract with the deployment engine and the agent's step runner:
 * add, never rename.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

export const DESCRIPTOR_FILE = "medulla-package.json";
export const DESCRIPTOR_FORMAT = "medulla-package/1";

const Str = (max: number, opts: Record<string, unknown> = {}) => Type.String({ maxLength: max, ...opts });
const Text = (max: number, description: string) => Type.String({ maxLength: max, description });
const Seconds = (description: string, max = 7 * 24 * 3600) => Type.Integer({ minimum: 0, maximum: max, description });

// ---------------------------------------------------------------- metadata

export const OS_NAMES = ["windows", "linux", "macos"] as const;
export const OsName = Type.Union(OS_NAMES.map((o) => Type.Literal(o)), { description: "Operating system" });
export type OsName = Static<typeof OsName>;

export const SECTION_NAMES = ["install", "update", "uninstall", "launch"] as const;
export const SectionName = Type.Union(SECTION_NAMES.map((s) => Type.Literal(s)));
export type SectionName = Static<typeof SectionName>;

/** Package name: ASCII letters, digits, space, `. _ + -`; no accented or special characters. */
export const NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9 ._+-]{0,99}$";
/** Version: ASCII letters, digits, `. _ + ~ -`, e.g. 1.0.0, 2024.3-beta1. */
export const VERSION_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._+~-]{0,39}$";
/** Step id: letters, digits, `_ -`; END_SUCCESS / END_ERROR are ordinary ids. */
export const STEP_ID_PATTERN = "^[A-Za-z0-9_-]{1,64}$";

export const PackageKind = Type.Union([Type.Literal("install"), Type.Literal("uninstall"), Type.Literal("script")], {
  description: "Action type shown in the package list (SPEC P1)",
});
export type PackageKind = Static<typeof PackageKind>;

export const Dependency = Type.Object(
  {
    name: Str(100, { pattern: NAME_PATTERN, description: "Name of the package this one needs" }),
    version: Type.Optional(Str(40, { pattern: VERSION_PATTERN, description: "Exact version; absent means the newest" })),
  },
  { additionalProperties: false },
);
export type Dependency = Static<typeof Dependency>;

export const Transfer = Type.Object(
  {
    method: Type.Union([Type.Literal("pull"), Type.Literal("push")], { description: "pull: the agent downloads over HTTPS; push: the server sends" }),
    bandwidthKbps: Type.Integer({ minimum: 0, maximum: 10_000_000, description: "Bandwidth limit in kilobits per second; 0 = unlimited" }),
  },
  { additionalProperties: false },
);
export type Transfer = Static<typeof Transfer>;

export const InventoryAssociation = Type.Object(
  {
    associate: Type.Boolean({ description: "Follow the package in the inventory after installation" }),
    software: Type.Optional(Str(255, { description: "Software name to look for in the inventory" })),
    version: Type.Optional(Str(100, { description: "Software version to look for; absent means any" })),
  },
  { additionalProperties: false },
);
export type InventoryAssociation = Static<typeof InventoryAssociation>;

// ---------------------------------------------------------------- routing

/** `==n`, `!=n`, `<n`, `<=n`, `>n`, `>=n` or an inclusive range `a..b` (n may be negative). */
export const CODE_CONDITION_PATTERN = "^\\s*(?:(==|!=|<=|>=|<|>)\\s*(-?\\d{1,10})|(-?\\d{1,10})\\s*\\.\\.\\s*(-?\\d{1,10}))\\s*$";

export const CodeRule = Type.Object(
  {
    when: Str(32, { pattern: CODE_CONDITION_PATTERN, description: "Return-code condition: ==n, !=n, <n, <=n, >n, >=n, a..b" }),
    goto: Str(64, { pattern: STEP_ID_PATTERN, description: "Step id to go to when the condition matches" }),
  },
  { additionalProperties: false },
);
export type CodeRule = Static<typeof CodeRule>;

export const Routing = Type.Object(
  {
    success: Type.Optional(Str(64, { pattern: STEP_ID_PATTERN, description: "Step id on success (default: the following step)" })),
    error: Type.Optional(Str(64, { pattern: STEP_ID_PATTERN, description: "Step id on error (default: the first end_error step)" })),
    codes: Type.Optional(Type.Array(CodeRule, { maxItems: 32, description: "Checked first, in order; the first match wins" })),
  },
  { additionalProperties: false },
);
export type Routing = Static<typeof Routing>;

// ---------------------------------------------------------------- steps

const common = {
  id: Str(64, { pattern: STEP_ID_PATTERN, description: "Unique within its section; targets of goto" }),
  label: Type.Optional(Text(200, "What the step does, shown in logs and the editor")),
  next: Type.Optional(Routing),
};

function step<A extends string, P extends Record<string, TSchema>>(action: A, description: string, props: P) {
  return Type.Object({ action: Type.Literal(action), ...common, ...props }, { additionalProperties: false, description });
}

export const SCRIPT_LANGUAGES = ["shell", "powershell", "cmd", "python"] as const;
export const ScriptLanguage = Type.Union(SCRIPT_LANGUAGES.map((l) => Type.Literal(l)));
export type ScriptLanguage = Static<typeof ScriptLanguage>;

export const EnvVar = Type.Object(
  { name: Str(128, { pattern: "^[A-Za-z_][A-Za-z0-9_]{0,127}$" }), value: Str(4096) },
  { additionalProperties: false },
);

export const SettingChange = Type.Object(
  {
    section: Type.Optional(Str(255, { description: "ini: the [section]; absent = before any section" })),
    key: Str(255, { minLength: 1, description: "ini: the key; json: a dotted path, e.g. server.port" }),
    value: Type.Optional(Type.Union([Type.String({ maxLength: 4096 }), Type.Number(), Type.Boolean(), Type.Null()], { description: "New value (json keeps the type)" })),
    remove: Type.Optional(Type.Boolean({ description: "Remove the key instead of setting it" })),
  },
  { additionalProperties: false },
);
export type SettingChange = Static<typeof SettingChange>;

/** Every step action, by name. Keys are the `action` values. */
export const STEP_SCHEMAS = {
  command: step("command", "Run a command line (return code routes)", {
    command: Str(8192, { minLength: 1 }),
    timeout: Type.Optional(Seconds("Kill after this many seconds; 0 = no limit")),
    workdir: Type.Optional(Str(1024, { description: "Working directory (default: the package folder)" })),
  }),
  script: step("script", "Run a script held in the descriptor", {
    language: ScriptLanguage,
    script: Str(65536, { minLength: 1 }),
    timeout: Seconds("Kill after this many seconds; 0 = no limit"),
  }),
  set_env: step("set_env", "Set environment variables for the following steps", {
    variables: Type.Array(EnvVar, { minItems: 1, maxItems: 64 }),
  }),
  reboot: step("reboot", "Reboot the machine, then resume at next.success", {
    message: Type.Optional(Text(1000, "Shown to the logged-in user before the reboot")),
    delay: Type.Optional(Seconds("Seconds before rebooting", 3600)),
  }),
  wait: step("wait", "Wait, then go to next.success", {
    seconds: Seconds("How long to wait", 24 * 3600),
  }),
  log: step("log", "Write a line to the deployment log", {
    level: Type.Union([Type.Literal("info"), Type.Literal("warning"), Type.Literal("error")]),
    message: Str(4000, { minLength: 1 }),
  }),
  edit_settings: step("edit_settings", "Set or remove keys of an ini or json settings file", {
    file: Str(1024, { minLength: 1 }),
    format: Type.Union([Type.Literal("ini"), Type.Literal("json")]),
    changes: Type.Array(SettingChange, { minItems: 1, maxItems: 128 }),
  }),
  unzip: step("unzip", "Extract a zip archive", {
    archive: Str(1024, { minLength: 1, description: "Relative to the package folder, or a template path" }),
    destination: Type.Optional(Str(1024, { description: "Default: the package folder" })),
  }),
  download: step("download", "Download a URL into the package folder, checked by SHA-256", {
    url: Str(2048, { pattern: "^https?://", description: "http(s) URL" }),
    file: Str(255, { minLength: 1, description: "File name inside the package folder" }),
    sha256: Str(64, { pattern: "^[0-9a-fA-F]{64}$" }),
    timeout: Type.Optional(Seconds("Give up after this many seconds; 0 = no limit")),
  }),
  delete_files: step("delete_files", "Delete files or folders", {
    paths: Type.Array(Str(1024, { minLength: 1 }), { minItems: 1, maxItems: 128 }),
  }),
  kiosk_notify: step("kiosk_notify", "Show a message in the user's kiosk", {
    message: Str(2000, { minLength: 1 }),
  }),
  user_notify: step("user_notify", "Show a message on the user's screen", {
    title: Type.Optional(Str(200)),
    message: Str(2000, { minLength: 1 }),
    timeout: Type.Optional(Seconds("Close after this many seconds; 0 = until closed", 24 * 3600)),
  }),
  ask_user: step("ask_user", "Ask the user a yes/no question: yes → success (code 0), no → error (code 1); on timeout or with nobody logged in, the default answer applies", {
    title: Type.Optional(Str(200, { description: "Window title (default: Medulla)" })),
    question: Str(2000, { minLength: 1 }),
    yesLabel: Type.Optional(Str(60)),
    noLabel: Type.Optional(Str(60)),
    timeout: Seconds("Seconds before the default answer applies", 24 * 3600),
    default: Type.Union([Type.Literal("yes"), Type.Literal("no")]),
  }),
  defer: step("defer", "Let the user postpone the deployment up to maxDeferrals times (Install now / Postpone); the server keeps the count and runs it again after delayMinutes", {
    title: Type.Optional(Str(200, { description: "Window title (default: Medulla)" })),
    message: Str(2000, { minLength: 1 }),
    maxDeferrals: Type.Integer({ minimum: 1, maximum: 100 }),
    delayMinutes: Type.Integer({ minimum: 1, maximum: 7 * 24 * 60, description: "Postponed by this long each time" }),
    timeout: Seconds("Seconds before proceeding without an answer", 24 * 3600),
    installLabel: Type.Optional(Str(60, { description: "First button (default: Install now)" })),
    postponeLabel: Type.Optional(Str(60, { description: "Second button; the postponements left are shown after it (default: Postpone)" })),
    atLimit: Type.Optional(Type.Union([Type.Literal("notify"), Type.Literal("silent"), Type.Literal("error")], { description: "Once no postponement is left (limit or deadline): notify = tell the user it installs now and go on (default), silent = go on without a word, error = end the step in error (its routing decides)" })),
  }),
  end_success: step("end_success", "The section ends successfully", {}),
  end_error: step("end_error", "The section ends in error", {
    message: Type.Optional(Text(1000, "Reason recorded with the failure")),
  }),
} as const;

export type StepAction = keyof typeof STEP_SCHEMAS;
export const STEP_ACTIONS = Object.keys(STEP_SCHEMAS) as StepAction[];
export const END_ACTIONS: readonly StepAction[] = ["end_success", "end_error"];
/** Actions whose return code is meaningful (code rules apply to them). */
export const CODE_ACTIONS: readonly StepAction[] = ["command", "script", "ask_user", "download", "unzip"];

export const Step = Type.Union(Object.values(STEP_SCHEMAS), { description: "One step; `action` says which fields it has" });
export type Step = Static<typeof Step>;
export type StepOf<A extends StepAction> = Static<(typeof STEP_SCHEMAS)[A]>;

export const MAX_STEPS = 200;
export const Section = Type.Array(Step, { maxItems: MAX_STEPS });
export type Section = Static<typeof Section>;

export const OsSections = Type.Object(
  {
    install: Type.Optional(Section),
    update: Type.Optional(Section),
    uninstall: Type.Optional(Section),
    launch: Type.Optional(Section),
  },
  { additionalProperties: false },
);
export type OsSections = Static<typeof OsSections>;

export const Descriptor = Type.Object(
  {
    $schema: Type.Optional(Type.String({ maxLength: 255 })),
    format: Type.Literal(DESCRIPTOR_FORMAT),
    name: Str(100, { pattern: NAME_PATTERN, description: "No special or accented characters, e.g. Install_Chrome" }),
    version: Str(40, { pattern: VERSION_PATTERN }),
    description: Text(2000, "What the package does"),
    kind: PackageKind,
    targetOs: Type.Array(OsName, { minItems: 1, maxItems: 3, uniqueItems: true }),
    share: Str(100, { minLength: 1, description: "Share the package belongs to, e.g. global" }),
    transfer: Transfer,
    priority: Type.Union([Type.Literal("high"), Type.Literal("normal")], { description: "Queue priority" }),
    launcher: Type.Optional(Str(1024, { description: "Program to start after installation, e.g. C:\\Program Files\\App\\app.exe" })),
    dependencies: Type.Array(Dependency, { maxItems: 50 }),
    inventory: InventoryAssociation,
    inventoryAfter: Type.Boolean({ description: "Request an inventory when the deployment ends" }),
    removeAfter: Type.Boolean({ description: "Delete the package folder from the machine when the deployment ends" }),
    steps: Type.Object(
      { windows: Type.Optional(OsSections), linux: Type.Optional(OsSections), macos: Type.Optional(OsSections) },
      { additionalProperties: false, description: "Per operating system, its sections of ordered steps" },
    ),
  },
  { additionalProperties: false, $id: "https://medulla.invalid/schemas/medulla-package.json", title: "medulla-package.json" },
);
export type Descriptor = Static<typeof Descriptor>;

/** Questions and deferral dialogs give the user at least this many seconds. */
export const PROMPT_MIN_TIMEOUT = 10;

// ---------------------------------------------------------------- template variables

/** `{{name}}` variables the agent expands in step fields. */
export const TEMPLATE_VARIABLES = {
  package_dir: "Absolute path of the package folder on the machine",
  temp_dir: "A temporary folder for this deployment, removed at the end",
  hostname: "The machine's host name",
  os: "windows, linux or macos",
  arch: "Processor architecture, e.g. x86_64",
  user: "The logged-in user, empty when none",
  package_name: "The package name",
  package_version: "The package version",
  deployment_id: "The deployment id",
  machine_id: "The machine id",
  step_id: "The id of the running step",
  previous_code: "Return code of the previous step that had one",
  previous_result: "success or error: outcome of the previous step",
  previous_output: "Last lines of the previous step's output (capped)",
  deferrals_used: "Postponements the user already made of this deployment (defer steps)",
  deferrals_left: "Postponements the user may still make",
} as const;
export type TemplateVariable = keyof typeof TEMPLATE_VARIABLES;
const TEMPLATE_RE = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/** Replaces `{{name}}` by its value; unknown names are left as they are. */
export function expandTemplate(s: string, vars: Partial<Record<TemplateVariable, string | number>>): string {
  return s.replace(TEMPLATE_RE, (whole, name: string) => {
    const v = Object.hasOwn(vars, name) ? vars[name as TemplateVariable] : undefined;
    return v === undefined ? whole : String(v);
  });
}

/** Names used in a string that are not template variables. */
export function unknownTemplateVariables(s: string): string[] {
  const out: string[] = [];
  for (const m of s.matchAll(TEMPLATE_RE)) if (!Object.hasOwn(TEMPLATE_VARIABLES, m[1]!)) out.push(m[1]!);
  return out;
}

// ---------------------------------------------------------------- return codes

export type CodeCondition = { op: "==" | "!=" | "<" | "<=" | ">" | ">="; n: number } | { op: "range"; from: number; to: number };

/** Parses `==n`, `!=n`, `<n`, `<=n`, `>n`, `>=n`, `a..b`; null when malformed. */
export function parseCodeCondition(s: string): CodeCondition | null {
  if (typeof s !== "string" || s.length > 32) return null;
  const m = new RegExp(CODE_CONDITION_PATTERN).exec(s);
  if (!m) return null;
  if (m[1]) return { op: m[1] as "==", n: Number(m[2]) };
  const from = Number(m[3]);
  const to = Number(m[4]);
  return from <= to ? { op: "range", from, to } : null;
}

export function matchCode(cond: string | CodeCondition, code: number): boolean {
  const c = typeof cond === "string" ? parseCodeCondition(cond) : cond;
  if (!c) return false;
  switch (c.op) {
    case "==": return code === c.n;
    case "!=": return code !== c.n;
    case "<": return code < c.n;
    case "<=": return code <= c.n;
    case ">": return code > c.n;
    case ">=": return code >= c.n;
    case "range": return code >= c.from && code <= c.to;
  }
}

export interface StepOutcome {
  ok: boolean;
  /** The return code, when the step had one. */
  code?: number;
}

/**
 * Index of the step to run after `steps[index]` ended with `outcome`; null when the step
 * was an END step (the section is over) or the target is missing (an invalid descriptor:
 * treat as error). Falling past the last step also yields null.
 */
export function nextStepIndex(steps: readonly Step[], index: number, outcome: StepOutcome): number | null {
  const s = steps[index];
  if (!s || s.action === "end_success" || s.action === "end_error") return null;
  const byId = (id: string) => {
    const i = steps.findIndex((x) => x.id === id);
    return i < 0 ? null : i;
  };
  if (outcome.code !== undefined && s.next?.codes) {
    for (const r of s.next.codes) if (matchCode(r.when, outcome.code)) return byId(r.goto);
  }
  if (outcome.ok) {
    if (s.next?.success) return byId(s.next.success);
    return index + 1 < steps.length ? index + 1 : null;
  }
  if (s.next?.error) return byId(s.next.error);
  const e = steps.findIndex((x) => x.action === "end_error");
  return e < 0 ? null : e;
}

/** Every index `steps[index]` may lead to (used for reachability). */
export function possibleNext(steps: readonly Step[], index: number): number[] {
  const s = steps[index];
  if (!s || s.action === "end_success" || s.action === "end_error") return [];
  const out = new Set<number>();
  const add = (i: number | null) => {
    if (i !== null) out.add(i);
  };
  for (const r of s.next?.codes ?? []) add(steps.findIndex((x) => x.id === r.goto));
  add(nextStepIndex(steps, index, { ok: true }));
  add(nextStepIndex(steps, index, { ok: false }));
  out.delete(-1);
  return [...out];
}

// ---------------------------------------------------------------- validation

export interface DescriptorIssue {
  /** JSON pointer of the field, e.g. /steps/windows/install/2/next/success */
  path: string;
  /** Stable code for translation and tests. */
  code:
    | "schema"
    | "not_object"
    | "unknown_action"
    | "duplicate_step_id"
    | "goto_missing"
    | "end_unreachable"
    | "no_end_success"
    | "falls_off_end"
    | "no_way_out"
    | "step_unreachable"
    | "code_rule_unused"
    | "bad_code_condition"
    | "unknown_variable"
    | "os_section_missing"
    | "os_not_targeted"
    | "bad_file_name"
    | "dependency_missing"
    | "dependency_cycle"
    | "dependency_self"
    | "duplicate_dependency"
    | "prompt_timeout"
    | "defer_not_first";
  /** English explanation; the UI translates from `code` + `params`. */
  message: string;
  params?: Record<string, string | number>;
}

export interface ValidateOptions {
  /**
   * Finds a package's descriptor by dependency (name and optional version; absent = newest),
   * to check that dependencies exist and form no cycle.
   */
  lookup?: (dep: Dependency) => Pick<Descriptor, "name" | "version" | "dependencies"> | null | undefined;
}

export interface ValidationResult {
  ok: boolean;
  errors: DescriptorIssue[];
  /** Not blocking: unreachable steps, unused rules. */
  warnings: DescriptorIssue[];
  /** The descriptor, typed, when ok. */
  descriptor?: Descriptor;
}

const esc = (s: string | number) => String(s).replace(/~/g, "~0").replace(/\//g, "~1");
const MAX_ISSUES = 200;

function schemaIssues(schema: TSchema, value: unknown, base: string): DescriptorIssue[] {
  const out: DescriptorIssue[] = [];
  for (const e of Value.Errors(schema, value)) {
    const options = (e.schema as { anyOf?: { const?: unknown }[] }).anyOf;
    const message =
      options && options.every((o) => o.const !== undefined)
        ? `expected one of: ${options.map((o) => String(o.const)).join(", ")}`
        : e.message;
    out.push({ path: base + e.path, code: "schema", message, params: { field: base + e.path } });
    if (out.length >= 50) break;
  }
  // Union members under a bad field each add an error: keep one per path.
  const seen = new Set<string>();
  return out.filter((i) => (seen.has(i.path) ? false : (seen.add(i.path), true)));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A plain file name or a relative path inside the package folder (no `..`, not absolute). */
export function isSafeRelativePath(p: string): boolean {
  if (!p || p.length > 1024 || p.includes("\0")) return false;
  if (/^[\\/]/.test(p) || /^[A-Za-z]:/.test(p)) return false;
  return !p.split(/[\\/]+/).some((seg) => seg === ".." || seg === "");
}

function walkStrings(v: unknown, path: string, visit: (s: string, path: string) => void, depth = 0): void {
  if (depth > 8) return;
  if (typeof v === "string") visit(v, path);
  else if (Array.isArray(v)) v.forEach((x, i) => walkStrings(x, `${path}/${i}`, visit, depth + 1));
  else if (isRecord(v)) for (const k of Object.keys(v)) walkStrings(v[k], `${path}/${esc(k)}`, visit, depth + 1);
}

/** Checks one section's steps: fields per action, ids, goto targets, END reachability. */
export function validateSection(steps: unknown, base: string): { errors: DescriptorIssue[]; warnings: DescriptorIssue[] } {
  const errors: DescriptorIssue[] = [];
  const warnings: DescriptorIssue[] = [];
  if (!Array.isArray(steps)) {
    errors.push({ path: base, code: "schema", message: "a section is a list of steps" });
    return { errors, warnings };
  }
  if (steps.length > MAX_STEPS) {
    errors.push({ path: base, code: "schema", message: `at most ${MAX_STEPS} steps`, params: { max: MAX_STEPS } });
    return { errors, warnings };
  }
  let wellFormed = true;
  const ids = new Map<string, number>();
  steps.forEach((raw, i) => {
    const p = `${base}/${i}`;
    if (!isRecord(raw)) {
      errors.push({ path: p, code: "not_object", message: "a step is an object" });
      wellFormed = false;
      return;
    }
    const action = raw.action;
    if (typeof action !== "string" || !Object.hasOwn(STEP_SCHEMAS, action)) {
      errors.push({
        path: `${p}/action`,
        code: "unknown_action",
        message: `unknown action ${JSON.stringify(typeof action === "string" ? action.slice(0, 64) : action ?? null)}; known: ${STEP_ACTIONS.join(", ")}`,
        params: { action: typeof action === "string" ? action.slice(0, 64) : String(action) },
      });
      wellFormed = false;
      return;
    }
    const se = schemaIssues(STEP_SCHEMAS[action as StepAction], raw, p);
    if (se.length) {
      errors.push(...se);
      wellFormed = false;
    }
    if (typeof raw.id === "string") {
      if (ids.has(raw.id)) errors.push({ path: `${p}/id`, code: "duplicate_step_id", message: `step id ${JSON.stringify(raw.id)} is already used by step ${ids.get(raw.id)}`, params: { id: raw.id } });
      else ids.set(raw.id, i);
    }
    walkStrings(raw, p, (s, sp) => {
      for (const name of unknownTemplateVariables(s)) {
        errors.push({ path: sp, code: "unknown_variable", message: `unknown template variable {{${name}}}`, params: { name } });
      }
    });
    if ((action === "ask_user" || action === "defer") && typeof raw.timeout === "number" && raw.timeout < PROMPT_MIN_TIMEOUT) {
      errors.push({ path: `${p}/timeout`, code: "prompt_timeout", message: `the user needs at least ${PROMPT_MIN_TIMEOUT} s to answer`, params: { min: PROMPT_MIN_TIMEOUT } });
    }
    if (action === "defer" && i > 0 && steps.slice(0, i).some((x) => isRecord(x) && x.action !== "defer" && x.action !== "log" && x.action !== "user_notify" && x.action !== "kiosk_notify")) {
      warnings.push({ path: `${p}/action`, code: "defer_not_first", message: "a postponed deployment starts the section again: the steps before this deferral will run again" });
    }
    if (action === "download" && typeof raw.file === "string" && !isSafeRelativePath(raw.file)) {
      errors.push({ path: `${p}/file`, code: "bad_file_name", message: "the file must stay inside the package folder (no .., not absolute)" });
    }
    const next = raw.next;
    if (isRecord(next)) {
      if (Array.isArray(next.codes)) {
        next.codes.forEach((r, j) => {
          if (isRecord(r) && typeof r.when === "string" && parseCodeCondition(r.when) === null) {
            errors.push({ path: `${p}/next/codes/${j}/when`, code: "bad_code_condition", message: `bad return-code condition ${JSON.stringify(r.when.slice(0, 32))}: use ==n, !=n, <n, <=n, >n, >=n or a..b with a ≤ b` });
          }
        });
        if (next.codes.length && !CODE_ACTIONS.includes(action as StepAction)) {
          warnings.push({ path: `${p}/next/codes`, code: "code_rule_unused", message: `a ${action} step has no return code: these rules never apply`, params: { action } });
        }
      }
    }
  });
  // Goto targets (checked even when some steps are malformed).
  steps.forEach((raw, i) => {
    if (!isRecord(raw) || !isRecord(raw.next)) return;
    const next = raw.next;
    const check = (target: unknown, sub: string) => {
      if (typeof target === "string" && !ids.has(target)) {
        errors.push({ path: `${base}/${i}/next/${sub}`, code: "goto_missing", message: `goes to step ${JSON.stringify(target.slice(0, 64))}, which does not exist in this section`, params: { target: target.slice(0, 64) } });
      }
    };
    check(next.success, "success");
    check(next.error, "error");
    if (Array.isArray(next.codes)) next.codes.forEach((r, j) => isRecord(r) && check(r.goto, `codes/${j}/goto`));
  });
  if (!wellFormed || errors.length) return { errors, warnings };
  const list = steps as Step[];
  if (list.length === 0) return { errors, warnings };
  if (!list.some((s) => s.action === "end_success")) {
    errors.push({ path: base, code: "no_end_success", message: "the section has no end_success step" });
  }
  const last = list[list.length - 1]!;
  if (!END_ACTIONS.includes(last.action) && !last.next?.success) {
    errors.push({ path: `${base}/${list.length - 1}`, code: "falls_off_end", message: "the last step must be an END step or say where to go on success" });
  }
  // Reachability from the first step.
  const seen = new Set<number>([0]);
  const queue = [0];
  while (queue.length) {
    for (const j of possibleNext(list, queue.shift()!)) if (!seen.has(j)) (seen.add(j), queue.push(j));
  }
  const firstEnd = list.findIndex((s) => s.action === "end_success");
  if (firstEnd >= 0 && !list.some((s, i) => s.action === "end_success" && seen.has(i))) {
    errors.push({ path: `${base}/${firstEnd}`, code: "end_unreachable", message: "no end_success step can be reached from the first step", params: { id: list[firstEnd]!.id } });
  }
  // Every reachable step must be able to reach an END step (no endless loop).
  const canEnd = new Set<number>(list.flatMap((s, i) => (END_ACTIONS.includes(s.action) ? [i] : [])));
  for (let changed = true; changed; ) {
    changed = false;
    list.forEach((_, i) => {
      if (!canEnd.has(i) && possibleNext(list, i).some((j) => canEnd.has(j))) (canEnd.add(i), (changed = true));
    });
  }
  list.forEach((s, i) => {
    if (seen.has(i) && !canEnd.has(i) && possibleNext(list, i).length > 0) {
      errors.push({ path: `${base}/${i}`, code: "no_way_out", message: `from step ${JSON.stringify(s.id)} no END step can ever be reached (endless loop)`, params: { id: s.id } });
    }
    if (!seen.has(i)) {
      warnings.push({ path: `${base}/${i}`, code: END_ACTIONS.includes(s.action) ? "end_unreachable" : "step_unreachable", message: `step ${JSON.stringify(s.id)} can never be reached`, params: { id: s.id } });
    }
  });
  return { errors, warnings };
}

/** Follows dependencies through `lookup`: reports missing ones and cycles. */
export function dependencyIssues(d: Pick<Descriptor, "name" | "version" | "dependencies">, lookup: NonNullable<ValidateOptions["lookup"]>): DescriptorIssue[] {
  const out: DescriptorIssue[] = [];
  const key = (n: string, v?: string) => `${n}@${v ?? "*"}`;
  const seenDeps = new Set<string>();
  d.dependencies.forEach((dep, i) => {
    const k = key(dep.name, dep.version);
    if (seenDeps.has(k)) out.push({ path: `/dependencies/${i}`, code: "duplicate_dependency", message: `${dep.name} is listed twice`, params: { name: dep.name } });
    seenDeps.add(k);
    if (dep.name === d.name && (dep.version === undefined || dep.version === d.version)) {
      out.push({ path: `/dependencies/${i}`, code: "dependency_self", message: "a package cannot depend on itself", params: { name: dep.name } });
    }
  });
  const self = key(d.name, d.version);
  const done = new Set<string>();
  let reported = false;
  const visit = (pkg: Pick<Descriptor, "name" | "version" | "dependencies">, chain: string[], top: number, depth: number) => {
    if (reported || depth > 64) return;
    for (const dep of pkg.dependencies ?? []) {
      const found = lookup(dep);
      if (!found) {
        if (depth === 0) out.push({ path: `/dependencies/${top < 0 ? pkg.dependencies.indexOf(dep) : top}`, code: "dependency_missing", message: `no package ${dep.name}${dep.version ? ` ${dep.version}` : ""}`, params: { name: dep.name } });
        continue;
      }
      const k = key(found.name, found.version);
      const idx = top < 0 ? pkg.dependencies.indexOf(dep) : top;
      if (k === self || chain.includes(k)) {
        const cycle = [...chain, k].map((c) => c.replace("@", " "));
        out.push({ path: `/dependencies/${idx}`, code: "dependency_cycle", message: `dependency cycle: ${cycle.join(" → ")}`, params: { cycle: cycle.join(" → ") } });
        reported = true;
        return;
      }
      if (done.has(k)) continue;
      done.add(k);
      visit(found, [...chain, k], idx, depth + 1);
    }
  };
  visit(d, [self], -1, 0);
  return out;
}

/**
 * Validates any parsed JSON as a descriptor. Never throws; errors name the field by JSON
 * pointer. With `lookup`, dependencies are checked to exist and to form no cycle.
 */
export function validateDescriptor(input: unknown, opts: ValidateOptions = {}): ValidationResult {
  const errors: DescriptorIssue[] = [];
  const warnings: DescriptorIssue[] = [];
  const done = (): ValidationResult => {
    const ok = errors.length === 0;
    return { ok, errors: errors.slice(0, MAX_ISSUES), warnings: warnings.slice(0, MAX_ISSUES), descriptor: ok ? (input as Descriptor) : undefined };
  };
  if (!isRecord(input)) {
    errors.push({ path: "", code: "not_object", message: "the descriptor must be a JSON object" });
    return done();
  }
  // Metadata: everything but the steps, whose errors come per step below.
  const { steps, ...meta } = input;
  const metaSchema = Type.Omit(Descriptor, ["steps"], { additionalProperties: false });
  errors.push(...schemaIssues(metaSchema, meta, ""));
  if (!isRecord(steps)) {
    errors.push({ path: "/steps", code: "schema", message: "steps must be an object keyed by operating system" });
    return done();
  }
  const targets = Array.isArray(input.targetOs) ? (input.targetOs as unknown[]) : [];
  for (const os of Object.keys(steps)) {
    if (!(OS_NAMES as readonly string[]).includes(os)) {
      errors.push({ path: `/steps/${esc(os.slice(0, 64))}`, code: "schema", message: `unknown operating system ${JSON.stringify(os.slice(0, 64))}; known: ${OS_NAMES.join(", ")}` });
      continue;
    }
    const sections = steps[os];
    if (!isRecord(sections)) {
      errors.push({ path: `/steps/${os}`, code: "schema", message: "an object with the sections install, update, uninstall, launch" });
      continue;
    }
    if (!targets.includes(os)) warnings.push({ path: `/steps/${os}`, code: "os_not_targeted", message: `steps for ${os}, which is not a target OS`, params: { os } });
    for (const name of Object.keys(sections)) {
      if (!(SECTION_NAMES as readonly string[]).includes(name)) {
        errors.push({ path: `/steps/${os}/${esc(name.slice(0, 64))}`, code: "schema", message: `unknown section ${JSON.stringify(name.slice(0, 64))}; known: ${SECTION_NAMES.join(", ")}` });
        continue;
      }
      const r = validateSection(sections[name], `/steps/${os}/${name}`);
      errors.push(...r.errors);
      warnings.push(...r.warnings);
    }
  }
  for (const os of targets) {
    if (typeof os !== "string" || !(OS_NAMES as readonly string[]).includes(os)) continue;
    const sections = steps[os];
    const kind = input.kind;
    const main = kind === "uninstall" ? "uninstall" : "install";
    const sec = isRecord(sections) ? sections[main] : undefined;
    if (!Array.isArray(sec) || sec.length === 0) {
      errors.push({ path: `/steps/${os}/${main}`, code: "os_section_missing", message: `target OS ${os} has no ${main} steps`, params: { os, section: main } });
    }
  }
  if (errors.length === 0 && opts.lookup) errors.push(...dependencyIssues(input as Descriptor, opts.lookup));
  return done();
}

/** Parses the text of a medulla-package.json and validates it. */
export function parseDescriptor(text: string, opts: ValidateOptions = {}): ValidationResult {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { ok: false, errors: [{ path: "", code: "schema", message: `not valid JSON: ${(e as Error).message.slice(0, 200)}` }], warnings: [] };
  }
  return validateDescriptor(v, opts);
}

/** A new descriptor with sensible defaults (an empty package: install ends at once). */
export function emptyDescriptor(name: string, version = "1.0.0", os: OsName[] = ["windows"]): Descriptor {
  const sections: OsSections = { install: [{ id: "END_SUCCESS", action: "end_success" }] };
  const steps: Descriptor["steps"] = {};
  for (const o of os) steps[o] = structuredClone(sections);
  return {
    format: DESCRIPTOR_FORMAT,
    name,
    version,
    description: "",
    kind: "install",
    targetOs: os,
    share: "global",
    transfer: { method: "pull", bandwidthKbps: 0 },
    priority: "normal",
    dependencies: [],
    inventory: { associate: false },
    inventoryAfter: false,
    removeAfter: false,
    steps,
  };
}

/**
 * The JSON Schema of medulla-package.json (what docs/packages.md shows): the step union,
 * the section and the per-OS sections written once under `$defs` and referenced.
 */
export function descriptorJsonSchema(): unknown {
  const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as Record<string, unknown>;
  const root = plain(Descriptor);
  const props = root.properties as Record<string, Record<string, unknown>>;
  const os = Object.fromEntries(OS_NAMES.map((o) => [o, { $ref: "#/$defs/OsSections" }]));
  props.steps = { ...props.steps, properties: os };
  const sections = plain(OsSections);
  sections.properties = Object.fromEntries(SECTION_NAMES.map((n) => [n, { $ref: "#/$defs/Section" }]));
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    ...root,
    $defs: {
      OsSections: sections,
      Section: { type: "array", maxItems: MAX_STEPS, items: { $ref: "#/$defs/Step" } },
      Step: plain(Step),
    },
  };
}
