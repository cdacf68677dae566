/**
 * @module protocol/deploy-plan
 * What an agent runs for one deployment: the plan, frozen by the server at launch and
 * fetched by the agent over HTTPS (`/api/v1/agents/deployments/{runId}/plan`, its SHA-256
 * named in the `deploy` message). Packages come in order, dependencies first; each carries
 * the files to fetch (by SHA-256) and the ordered steps of the deployed section for the
 * machine's OS, exactly as the package descriptor states them (src/features/packages/
 * descriptor.ts: step schemas, routing by return code, template variables). Shared by the
 * server (src/features/deployments/plan.ts builds it) and the agent (agent/src/deploy).
 */
import { Type, type Static } from "@sinclair/typebox";
import { Step } from "../features/packages/descriptor.ts";

export const PlanFile = Type.Object({
  path: Type.String({ minLength: 1, maxLength: 1024 }),
  sha256: Type.String({ pattern: "^[0-9a-f]{64}$" }),
  size: Type.Integer({ minimum: 0 }),
});
export type PlanFile = Static<typeof PlanFile>;

export const PlanPackage = Type.Object({
  ref: Type.String({ maxLength: 100 }),
  name: Type.String({ maxLength: 200 }),
  version: Type.String({ maxLength: 100 }),
  files: Type.Array(PlanFile, { maxItems: 10_000 }),
  steps: Type.Array(Step, { minItems: 1, maxItems: 200 }),
  /** Ask for an inventory once the package ran (it changed the machine). */
  inventoryAfter: Type.Boolean(),
  /** Delete the package folder once the package ran. */
  removeAfter: Type.Boolean(),
});
export type PlanPackage = Static<typeof PlanPackage>;

export const Plan = Type.Object({
  v: Type.Literal(1),
  deploymentId: Type.Integer({ minimum: 0 }),
  section: Type.Union([Type.Literal("install"), Type.Literal("update"), Type.Literal("uninstall"), Type.Literal("launch")]),
  os: Type.Union([Type.Literal("windows"), Type.Literal("linux"), Type.Literal("macos")]),
  packages: Type.Array(PlanPackage, { minItems: 1, maxItems: 50 }),
});
export type Plan = Static<typeof Plan>;
