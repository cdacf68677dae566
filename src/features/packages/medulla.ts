/**
 * @module packages/medulla
 * Converts a Medulla (Pulse) package — `conf.json` (metadata) and `xmppdeploy.json` (per OS
 * a `sequence` of steps with `action`, `actionlabel`, `step` numbers and jumps) — to our
 * descriptor. Every Medulla action with an equivalent is mapped with its routing (`succes`,
 * `error`, `goto`, `gotoreturncode@N`, `gotoyes`/`gotono`); section markers
 * (`action_section_install`, …) split a sequence into our sections. What has no
 * equivalent is never dropped: the step becomes a `log` step saying what it was (so the
 * flow keeps its shape) and a warning names it.
 */
import {
  DESCRIPTOR_FORMAT,
  NAME_PATTERN,
  STEP_ID_PATTERN,
  VERSION_PATTERN,
  type Descriptor,
  type OsName,
  type OsSections,
  type Routing,
  type ScriptLanguage,
  type SectionName,
  type Step,
} from "./descriptor.ts";

export interface ImportWarning {
  /** Where in the Medulla files, e.g. xmppdeploy.json win.sequence[3]. */
  where: string;
  message: string;
}

export interface MedullaConversion {
  descriptor: Descriptor;
  warnings: ImportWarning[];
}

export interface ConvertOptions {
  /** Finds one of our packages by a Medulla package uuid (dependencies). */
  resolveDependency?: (uuid: string) => { name: string; version: string } | null;
}

const OS_MAP: Record<string, OsName> = { win: "windows", windows: "windows", linux: "linux", mac: "macos", macos: "macos", darwin: "macos" };
const SECTION_MARKERS: Record<string, SectionName> = {
  action_section_install: "install",
  action_section_update: "update",
  action_section_uninstall: "uninstall",
  action_section_launch: "launch",
};
/** Medulla's @@@…@@@ template variables and ours. */
const TEMPLATES: Record<string, string> = {
  PACKAGE_DIRECTORY_ABS_MACHINE: "{{package_dir}}",
  PACKAGE_DIRECTORY_REL_MACHINE: "{{package_dir}}",
  TMP_DIR: "{{temp_dir}}",
  HOSTNAME: "{{hostname}}",
  SHORTNAME_MACHINE: "{{hostname}}",
  LAST_CODE_RETURN: "{{previous_code}}",
  PREVIOUS_CODE_RETURN: "{{previous_code}}",
};
/** Step keys that carry no meaning for us (bookkeeping of Medulla's runner and editor). */
const IGNORED_KEYS = new Set(["step", "action", "actionlabel", "codereturn", "@resultcommand", "pwd", "reprise", "protected", "completed", "sizeheader", "sizemessage", "icon", "title"]);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : "");
const int = (v: unknown, fallback: number): number => {
  const n = typeof v === "number" ? v : Number.parseInt(str(v), 10);
  return Number.isFinite(n) ? Math.trunc(n) : fallback;
};
const truthy = (v: unknown) => ["true", "1", "yes", "y", "ok", "forced", "noforced"].includes(str(v).toLowerCase());

/** Medulla stores some texts in base64: decode when the value is base64 of readable UTF-8. */
export function maybeBase64(v: string): string {
  const s = v.trim();
  if (s.length < 4 || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return v;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(s, "base64"));
    // eslint-disable-next-line no-control-regex
    return /[\u0000-\u0008\u000e-\u001f]/.test(text) ? v : text;
  } catch {
    return v;
  }
}

/** Transliterates to the characters a package name may hold. */
export function asciiName(s: string, pattern: string, fallback: string): string {
  let out = s
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^A-Za-z0-9 ._+-]/g, "_")
    .replace(/^[^A-Za-z0-9]+/, "")
    .trim();
  out = out.slice(0, pattern === NAME_PATTERN ? 100 : 40);
  return new RegExp(pattern).test(out) ? out : fallback;
}

function templates(s: string, where: string, warnings: ImportWarning[]): string {
  return s.replace(/@@@([A-Z0-9_]+)@@@/g, (whole, name: string) => {
    if (TEMPLATES[name]) return TEMPLATES[name]!;
    warnings.push({ where, message: `Medulla variable ${whole} has no equivalent: left as is` });
    return whole;
  });
}

interface RawStep {
  raw: Record<string, unknown>;
  index: number;
  number: number;
  action: string;
  label: string;
}

/** Converts parsed conf.json and xmppdeploy.json; never throws on odd input, warns instead. */
export function convertMedulla(conf: unknown, deploy: unknown, opts: ConvertOptions = {}): MedullaConversion {
  const warnings: ImportWarning[] = [];
  const c = isRecord(conf) ? conf : {};
  const d = isRecord(deploy) ? deploy : {};
  const info = isRecord(d.info) ? d.info : {};
  if (!isRecord(conf)) warnings.push({ where: "conf.json", message: "conf.json is missing or not an object: metadata taken from xmppdeploy.json" });

  const rawName = str(c.name) || str(info.name) || "Imported package";
  const name = asciiName(rawName, NAME_PATTERN, "Imported_package");
  if (name !== rawName) warnings.push({ where: "conf.json name", message: `name "${rawName.slice(0, 100)}" became "${name}" (no special or accented characters)` });
  const rawVersion = str(c.version) || str(info.version) || "1.0";
  const version = asciiName(rawVersion, VERSION_PATTERN, "1.0");
  if (version !== rawVersion) warnings.push({ where: "conf.json version", message: `version "${rawVersion.slice(0, 40)}" became "${version}"` });

  // Operating systems: the sequences present, else targetos.
  const osKeys = Object.keys(d).filter((k) => OS_MAP[k] && isRecord(d[k]));
  const targetOs = [...new Set((osKeys.length ? osKeys : str(c.targetos || info.targetos || "win").split(/[,\s]+/)).map((k) => OS_MAP[k]).filter((o): o is OsName => Boolean(o)))];
  if (!targetOs.length) targetOs.push("windows");

  const method = str(info.methodetransfert || c.methodetransfert).toLowerCase();
  const kbytes = int(info.limit_rate_ko ?? c.limit_rate_ko, 0);
  const inv = isRecord(c.inventory) ? c.inventory : {};
  const queries = isRecord(inv.queries) ? inv.queries : {};

  const steps: Descriptor["steps"] = {};
  let inventoryAfter = false;
  let removeAfter = true;
  for (const key of osKeys) {
    const os = OS_MAP[key]!;
    const seq = (d[key] as Record<string, unknown>).sequence;
    if (!Array.isArray(seq)) {
      warnings.push({ where: `xmppdeploy.json ${key}`, message: "no sequence: this system gets an empty install section" });
      continue;
    }
    const r = convertSequence(seq, key, warnings);
    steps[os] = r.sections;
    inventoryAfter ||= r.inventoryAfter;
    removeAfter &&= r.removeAfter;
  }
  for (const os of targetOs) {
    if (!steps[os]) steps[os] = { install: [{ id: "END_SUCCESS", action: "end_success" }] };
  }

  const dependencies: Descriptor["dependencies"] = [];
  const depIds = [...(Array.isArray(info.Dependency) ? info.Dependency : []), ...(Array.isArray(c.sub_packages) ? c.sub_packages : str(c.sub_packages).split(","))]
    .map((x) => str(x).trim())
    .filter(Boolean);
  for (const uuid of [...new Set(depIds)]) {
    const found = opts.resolveDependency?.(uuid) ?? null;
    if (found) dependencies.push({ name: found.name, version: found.version });
    else warnings.push({ where: "dependencies", message: `dependency ${uuid.slice(0, 64)} is not a known package: import it first, then add it to this package's dependencies` });
  }
  if (truthy(c.reboot) && str(c.reboot) !== "0") warnings.push({ where: "conf.json reboot", message: "the package asked for a reboot after installation: add a reboot step where it belongs" });
  for (const k of ["preCommand", "installInit", "command", "postCommandSuccess", "postCommandFailure"]) {
    const cmd = isRecord(c.commands) && isRecord(c.commands[k]) ? str(c.commands[k].command) : "";
    if (cmd) warnings.push({ where: `conf.json commands.${k}`, message: `legacy command "${cmd.slice(0, 100)}" is not run by the steps: add a command step if it is needed` });
  }

  const sectionsPresent = new Set(Object.values(steps).flatMap((s) => Object.keys(s ?? {})));
  const descriptor: Descriptor = {
    format: DESCRIPTOR_FORMAT,
    name,
    version,
    description: (str(c.description) || str(info.description)).slice(0, 2000),
    kind: sectionsPresent.has("install") || !sectionsPresent.has("uninstall") ? "install" : "uninstall",
    targetOs,
    share: asciiName(str(c.localisation_server || info.localisation_server) || "global", NAME_PATTERN, "global"),
    transfer: { method: method.startsWith("push") ? "push" : "pull", bandwidthKbps: Math.max(0, Math.min(10_000_000, kbytes * 8)) },
    priority: str(info.spooling).toLowerCase() === "high" ? "high" : "normal",
    ...(str(info.launcher || c.launcher) ? { launcher: str(info.launcher || c.launcher).slice(0, 1024) } : {}),
    dependencies,
    inventory: {
      associate: str(inv.associateinventory) === "1" || inv.associateinventory === true,
      ...(str(queries.Qsoftware) ? { software: str(queries.Qsoftware).slice(0, 255) } : {}),
      ...(str(queries.Qversion) ? { version: str(queries.Qversion).slice(0, 100) } : {}),
    },
    inventoryAfter,
    removeAfter,
    steps,
  };
  return { descriptor, warnings };
}

function convertSequence(seq: unknown[], osKey: string, warnings: ImportWarning[]) {
  const raws: RawStep[] = [];
  seq.slice(0, 500).forEach((s, index) => {
    if (!isRecord(s)) {
      warnings.push({ where: `xmppdeploy.json ${osKey}.sequence[${index}]`, message: "not a step object: skipped" });
      return;
    }
    raws.push({ raw: s, index, number: int(s.step, index), action: str(s.action), label: str(s.actionlabel) });
  });
  raws.sort((a, b) => a.number - b.number || a.index - b.index);

  // Ids: the Medulla label when it fits, made unique; jumps name a step number or a label.
  const used = new Set<string>();
  const idOf = new Map<RawStep, string>();
  const byNumber = new Map<number, string>();
  const byLabel = new Map<string, string>();
  for (const r of raws) {
    let base = r.label.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 56) || `step_${r.number}`;
    if (!new RegExp(STEP_ID_PATTERN).test(base)) base = `step_${r.number}`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    idOf.set(r, id);
    if (!byNumber.has(r.number)) byNumber.set(r.number, id);
    if (r.label && !byLabel.has(r.label)) byLabel.set(r.label, id);
  }
  const target = (v: unknown, where: string): string | undefined => {
    if (v === undefined || v === null || v === "") return undefined;
    const s = str(v);
    if (/^-?\d+$/.test(s) && byNumber.has(Number(s))) return byNumber.get(Number(s));
    if (byLabel.has(s)) return byLabel.get(s);
    warnings.push({ where, message: `jump to "${s.slice(0, 64)}", which is not a step of this sequence: the default route applies` });
    return undefined;
  };

  const sections: Partial<Record<SectionName, Step[]>> = {};
  let current: SectionName | null = null;
  const before: Step[] = [];
  const ends: Step[] = [];
  let inventoryAfter = false;
  let removeAfter = true;
  for (const r of raws) {
    const where = `xmppdeploy.json ${osKey}.sequence[${r.index}] (${r.label || r.action})`;
    if (SECTION_MARKERS[r.action]) {
      current = SECTION_MARKERS[r.action]!;
      sections[current] ??= [];
      continue;
    }
    const step = convertStep(r, idOf.get(r)!, target, where, warnings, osKey);
    if (r.action === "actionsuccescompletedend") {
      if (r.raw.inventory === undefined || truthy(r.raw.inventory)) inventoryAfter = true;
      if (str(r.raw.clear) === "False" || r.raw.clear === false) removeAfter = false;
    }
    if (step.action === "end_success" || step.action === "end_error") ends.push(step);
    else if (current) sections[current]!.push(step);
    else before.push(step);
  }
  if (before.length) {
    if (sections.install) {
      warnings.push({ where: `xmppdeploy.json ${osKey}`, message: `${before.length} step(s) before the first section marker were put at the start of the install section` });
      sections.install.unshift(...before);
    } else sections.install = before;
  }
  if (!sections.install && !sections.uninstall && !sections.update && !sections.launch) sections.install = [];
  // Each section ends on the END steps, end_success first: falling off a section's last
  // step succeeds, as Medulla's section marker does.
  const orderedEnds = [...ends.filter((s) => s.action === "end_success"), ...ends.filter((s) => s.action !== "end_success")];
  if (!orderedEnds.some((s) => s.action === "end_success")) orderedEnds.unshift({ id: used.has("END_SUCCESS") ? "END_SUCCESS_2" : "END_SUCCESS", action: "end_success" });
  const out: OsSections = {};
  for (const [name, list] of Object.entries(sections) as [SectionName, Step[]][]) {
    const ids = new Set([...list, ...orderedEnds].map((s) => s.id));
    // Jumps into another section have nowhere to go here.
    const fixed = list.map((s) => dropForeignTargets(s, ids, name, osKey, warnings));
    out[name] = [...fixed, ...structuredClone(orderedEnds)];
  }
  return { sections: out, inventoryAfter, removeAfter };
}

function dropForeignTargets(s: Step, ids: Set<string>, section: string, osKey: string, warnings: ImportWarning[]): Step {
  if (!s.next) return s;
  const next: Routing = { ...s.next };
  const bad = (t: string) => {
    warnings.push({ where: `xmppdeploy.json ${osKey} step ${s.id}`, message: `jumps to ${t}, outside the ${section} section: the default route applies` });
  };
  if (next.success && !ids.has(next.success)) (bad(next.success), delete next.success);
  if (next.error && !ids.has(next.error)) (bad(next.error), delete next.error);
  if (next.codes) {
    next.codes = next.codes.filter((r) => (ids.has(r.goto) ? true : (bad(r.goto), false)));
    if (!next.codes.length) delete next.codes;
  }
  const out = { ...s, next } as Step;
  if (!Object.keys(next).length) delete (out as { next?: Routing }).next;
  return out;
}

function convertStep(r: RawStep, id: string, target: (v: unknown, where: string) => string | undefined, where: string, warnings: ImportWarning[], osKey: string): Step {
  const s = r.raw;
  const t = (v: string) => templates(v, where, warnings);
  const next: Routing = {};
  const success = target(s.succes ?? s.success, where);
  const error = target(s.error, where);
  if (success) next.success = success;
  if (error) next.error = error;
  const codes: { when: string; goto: string }[] = [];
  for (const k of Object.keys(s)) {
    const m = /^gotoreturncode@(-?\d{1,10})$/.exec(k);
    if (!m) continue;
    const goto = target(s[k], where);
    if (goto) codes.push({ when: `==${m[1]}`, goto });
  }
  if (codes.length) next.codes = codes;
  const goto = target(s.goto, where);
  const label = r.label && r.label !== id ? { label: r.label.slice(0, 200) } : {};
  const withNext = <T extends Record<string, unknown>>(step: T, route: Routing = next) => ({ ...step, ...label, ...(Object.keys(route).length ? { next: route } : {}) }) as unknown as Step;
  const timeout = (fallback: number) => Math.max(0, Math.min(7 * 24 * 3600, int(s.timeout, fallback)));
  const unmapped = (why: string): Step => {
    warnings.push({ where, message: `Medulla action ${r.action || "(none)"} ${why}: kept as a log step` });
    // The original step goes with it, so nothing of it is lost.
    const original = JSON.stringify(s, (k, v) => (k === "script" || k === "set" || k === "command" ? maybeBase64(str(v)) : v));
    return withNext({ id, action: "log", level: "warning", message: `Imported from Medulla: ${r.action || "step"} ${why}. Original step: ${original.replace(/\{\{/g, "{ {")}`.slice(0, 4000) });
  };
  // Keys we do not read: reported once per step, never silently lost.
  const known = new Set([...IGNORED_KEYS, "succes", "success", "error", "goto", "gotoyes", "gotono", "timeout", "command", "script", "typescript", "environ", "waiting", "comment", "filename", "pathdirectorytounzip", "query", "message", "titlemessage", "textbuttonyes", "textbuttonno", "targetrestart", "clear", "inventory", "boutontype", "set", "url", "packageuuid", "suffix", "bang"]);
  const unknownKeys = Object.keys(s).filter((k) => !known.has(k) && !/^gotoreturncode@/.test(k) && !/^\d+@(lastlines|firstlines)$/.test(k));
  if (unknownKeys.length) warnings.push({ where, message: `fields without an equivalent were ignored: ${unknownKeys.slice(0, 10).join(", ")}` });
  if (str(s.packageuuid)) warnings.push({ where, message: "runs in another package's folder (packageuuid): this step runs in this package's folder" });

  switch (r.action) {
    case "actionprocessscript":
    case "action_command_natif_shell": {
      const command = t(maybeBase64(str(s.command)));
      if (!command.trim()) return unmapped("has no command");
      return withNext({ id, action: "command", command: command.slice(0, 8192), timeout: timeout(800) });
    }
    case "actionprocessscriptfile": {
      const kind = str(s.typescript).toLowerCase();
      const windows = osKey === "win";
      const language: ScriptLanguage | null = kind === "batch" ? (windows ? "cmd" : "shell") : kind === "powershell" ? "powershell" : kind === "python" ? "python" : null;
      if (!language) return unmapped(`runs a ${str(s.typescript) || "script"} script, a language we do not run`);
      const script = t(maybeBase64(str(s.script)));
      if (!script.trim()) return unmapped("has an empty script");
      return withNext({ id, action: "script", language, script: script.slice(0, 65536), timeout: timeout(900) });
    }
    case "action_set_environ": {
      const env = s.environ;
      const pairs: [string, string][] = isRecord(env)
        ? Object.entries(env).map(([k, v]) => [k, str(v)])
        : str(env)
            .split(/\r?\n|,/)
            .map((l) => l.split("=") as [string, ...string[]])
            .filter((p) => p[0]?.trim())
            .map(([k, ...v]) => [k.trim(), v.join("=")]);
      const variables = pairs.filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(k)).map(([name, value]) => ({ name, value: t(value).slice(0, 4096) }));
      if (variables.length !== pairs.length) warnings.push({ where, message: "variables with unusable names were left out" });
      if (!variables.length) return unmapped("sets no usable variable");
      return withNext({ id, action: "set_env", variables: variables.slice(0, 64) });
    }
    case "actionrestart":
      if (str(s.targetrestart) === "AM") return unmapped("restarts the agent only, not the machine");
      return withNext({ id, action: "reboot" }, success ? { success } : {});
    case "actionwaitandgoto":
      return withNext({ id, action: "wait", seconds: Math.max(0, Math.min(86400, int(s.waiting, 10))) }, goto ? { success: goto } : next);
    case "action_no_operation":
      return withNext({ id, action: "wait", seconds: 0 });
    case "action_comment":
      return withNext({ id, action: "log", level: "info", message: (t(str(s.comment)) || "(no comment)").slice(0, 4000) });
    case "action_unzip_file": {
      const archive = t(str(s.filename));
      if (!archive) return unmapped("names no archive");
      const dest = t(str(s.pathdirectorytounzip));
      const route = goto ? { success: goto, error: goto } : next;
      return withNext({ id, action: "unzip", archive: archive.slice(0, 1024), ...(dest && dest !== "." ? { destination: dest.slice(0, 1024) } : {}) }, route);
    }
    case "actioncleaning":
      return withNext({ id, action: "delete_files", paths: ["{{package_dir}}"] });
    case "action_notification": {
      const message = t(maybeBase64(str(s.message)));
      if (!message) return unmapped("has no message");
      const title = maybeBase64(str(s.titlemessage));
      return withNext({ id, action: "user_notify", ...(title ? { title: title.slice(0, 200) } : {}), message: message.slice(0, 2000), timeout: Math.max(0, Math.min(86400, int(s.timeout, 0))) });
    }
    case "actionconfirm": {
      const yes = target(s.gotoyes, where);
      const no = target(s.gotono, where);
      const others = Object.keys(s).filter((k) => /^goto[a-z]/i.test(k) && !["gotoyes", "gotono"].includes(k) && !k.startsWith("gotoreturncode"));
      if (others.length) warnings.push({ where, message: `buttons other than yes and no (${others.join(", ")}) have no equivalent` });
      const route: Routing = { ...(yes ?? goto ? { success: (yes ?? goto)! } : {}), ...(no ?? goto ? { error: (no ?? goto)! } : {}) };
      return withNext({ id, action: "ask_user", question: (maybeBase64(str(s.query)) || "?").slice(0, 2000), timeout: Math.max(1, Math.min(86400, int(s.timeout, 60))), default: "no" }, route);
    }
    case "actionsuccescompletedend":
      return { id, action: "end_success", ...label } as Step;
    case "actionerrorcompletedend":
      return { id, action: "end_error", ...label } as Step;
    case "action_download":
      return unmapped(`downloads ${str(s.url).slice(0, 200) || "a file"} without a checksum (add the file to the package, or a download step with its SHA-256)`);
    case "action_set_config_file":
      return unmapped(`changes the Medulla agent's own configuration (${maybeBase64(str(s.set)).slice(0, 200)})`);
    case "action_pwd_package":
      return unmapped("changes the working folder to another package's");
    default:
      return unmapped("is unknown");
  }
}
