/**
 * @module packages/descriptor-check
 * Validation of a descriptor (packages/descriptor.ts): the schema, then per section the ids,
 * goto targets, return-code rules, END reachability and template variables, then the files
 * and the dependencies (no cycle, each one known). Errors block saving; warnings do not.
 */
import { Type, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { parseCodeCondition, possibleNext, unknownTemplateVariables } from "./descriptor-flow.ts";
import {
  CODE_ACTIONS,
  type Dependency,
  Descriptor,
  END_ACTIONS,
  MAX_STEPS,
  OS_NAMES,
  PROMPT_MIN_TIMEOUT,
  SECTION_NAMES,
  type Step,
  STEP_ACTIONS,
  STEP_SCHEMAS,
  type StepAction,
} from "./descriptor-schema.ts";

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
