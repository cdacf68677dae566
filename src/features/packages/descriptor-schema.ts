/**
 * @module packages/descriptor-schema
 * The declarations of medulla-package.json (packages/descriptor.ts says what it is):
 * metadata, step actions and their fields, sections per OS, template variable names, with
 * TypeBox (JSON Schema + static types); a new empty descriptor; the JSON Schema that
 * docs/packages.md shows.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";

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
