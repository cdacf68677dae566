/**
 * @module protocol/deploy-plan
 * What an agent runs for one deployment: the plan, frozen by the server at launch and
 * fetched by the agent over HTTPS (`/api/v1/agents/deployments/{runId}/plan`, its SHA-256
 * named in the `deploy` message). Packages come in order, dependencies first; each carries
 * the files to fetch (by SHA-256) and the ordered steps of the section being deployed for
 * the machine's OS. Shared by the server (which builds it from a package descriptor,
 * src/features/deployments/plan.ts) and the agent (agent/src/deploy), so neither can drift.
 *
 * A step's `next` says where to go: by return code first (`codes`, the first that matches),
 * then `success` or `error`; a target is another step's `id`, `END_SUCCESS`, `END_ERROR`, or
 * absent for "the next step" on success and END_ERROR on error.
 */
import { Type, type Static } from "@sinclair/typebox";

export const STEP_ACTIONS = [
  "command", "script", "env", "reboot", "wait", "log", "settings", "unzip", "download", "delete",
  "kiosk", "notify", "question", "defer", "END_SUCCESS", "END_ERROR",
] as const;
export type StepAction = (typeof STEP_ACTIONS)[number];

export const PlanStep = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 100 }),
    action: Type.Union(STEP_ACTIONS.map((a) => Type.Literal(a))),
    label: Type.Optional(Type.String({ maxLength: 200 })),
    /** The action's own fields (command, script, interpreter, seconds, path, keys, url, sha256, …). */
    with: Type.Record(Type.String(), Type.Unknown()),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
    next: Type.Optional(
      Type.Object({
        success: Type.Optional(Type.String({ maxLength: 100 })),
        error: Type.Optional(Type.String({ maxLength: 100 })),
        /** `==n`, `!=n`, `<n`, `<=n`, `>n`, `>=n`, or a range `a..b` (inclusive). */
        codes: Type.Optional(Type.Array(Type.Object({ when: Type.String({ maxLength: 40 }), goto: Type.String({ maxLength: 100 }) }), { maxItems: 50 })),
      }),
    ),
  },
  { additionalProperties: false },
);
export type PlanStep = Static<typeof PlanStep>;

export const PlanFile = Type.Object({
  path: Type.String({ minLength: 1, maxLength: 1000 }),
  sha256: Type.String({ pattern: "^[0-9a-f]{64}$" }),
  size: Type.Integer({ minimum: 0 }),
});
export type PlanFile = Static<typeof PlanFile>;

export const PlanPackage = Type.Object({
  ref: Type.String({ maxLength: 100 }),
  name: Type.String({ maxLength: 200 }),
  version: Type.String({ maxLength: 100 }),
  files: Type.Array(PlanFile, { maxItems: 10_000 }),
  steps: Type.Array(PlanStep, { minItems: 1, maxItems: 500 }),
  /** Ask for an inventory once the package ran (it changed the machine). */
  inventoryAfter: Type.Optional(Type.Boolean()),
  /** Delete the package folder once the package ran. */
  removeAfter: Type.Optional(Type.Boolean()),
});
export type PlanPackage = Static<typeof PlanPackage>;

export const Plan = Type.Object({
  v: Type.Literal(1),
  deploymentId: Type.Integer({ minimum: 1 }),
  section: Type.Union([Type.Literal("install"), Type.Literal("update"), Type.Literal("uninstall"), Type.Literal("launch")]),
  packages: Type.Array(PlanPackage, { minItems: 1, maxItems: 50 }),
});
export type Plan = Static<typeof Plan>;

export const END_SUCCESS = "END_SUCCESS";
export const END_ERROR = "END_ERROR";

/** Whether return code `code` matches a `when` condition; null when the condition is malformed. */
export function codeMatches(when: string, code: number): boolean | null {
  const w = when.replace(/\s+/g, "");
  const range = /^(-?\d+)\.\.(-?\d+)$/.exec(w);
  if (range) return code >= Number(range[1]) && code <= Number(range[2]);
  const m = /^(==|!=|<=|>=|<|>|=)?(-?\d+)$/.exec(w);
  if (!m) return null;
  const n = Number(m[2]);
  switch (m[1] ?? "==") {
    case "==":
    case "=":
      return code === n;
    case "!=":
      return code !== n;
    case "<":
      return code < n;
    case "<=":
      return code <= n;
    case ">":
      return code > n;
    default:
      return code >= n;
  }
}

/** Problems of a plan that the schema cannot see: duplicate ids, gotos to nowhere, bad conditions. */
export function planProblems(plan: Plan): string[] {
  const out: string[] = [];
  for (const p of plan.packages) {
    const ids = new Set<string>();
    for (const s of p.steps) {
      if (ids.has(s.id)) out.push(`${p.name}: step id "${s.id}" is used twice`);
      ids.add(s.id);
    }
    const known = (t: string | undefined) => t === undefined || t === END_SUCCESS || t === END_ERROR || ids.has(t);
    for (const s of p.steps) {
      for (const t of [s.next?.success, s.next?.error, ...(s.next?.codes ?? []).map((c) => c.goto)]) {
        if (!known(t)) out.push(`${p.name}: step "${s.id}" goes to "${t}", which does not exist`);
      }
      for (const c of s.next?.codes ?? []) if (codeMatches(c.when, 0) === null) out.push(`${p.name}: step "${s.id}": "${c.when}" is not a return-code condition`);
    }
  }
  return out;
}
