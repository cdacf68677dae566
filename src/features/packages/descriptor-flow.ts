/**
 * @module packages/descriptor-flow
 * How steps run into one another (packages/descriptor.ts "Routing"): template variables
 * expanded in step fields, return-code conditions, the next step after an outcome and every
 * step that may follow one. Shared by the validator, the deployment engine and the agent's
 * step runner.
 */
import { CODE_CONDITION_PATTERN, TEMPLATE_VARIABLES, type Step, type TemplateVariable } from "./descriptor-schema.ts";

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
