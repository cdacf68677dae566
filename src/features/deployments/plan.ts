/**
 * @module deployments/plan
 * From packages to what a machine runs. At launch the package and its dependencies
 * (dependencies first) are frozen into the deployment (`deployments.plan`): names,
 * versions, files by SHA-256, and the deployed section's steps for every OS the package
 * has. When a machine is sent the deployment, the plan for its OS is cut from that
 * (src/protocol/deploy-plan.ts), so editing a package later never changes a deployment
 * already launched.
 *
 * `PackageSource` is the packages feature seen from here: an adapter (./package-source.ts)
 * over its storage, so the two features meet in one small place.
 */
import type { OsName, Step } from "../packages/descriptor.ts";
import type { Plan, PlanFile } from "../../protocol/deploy-plan.ts";
import type { Section } from "./repo.ts";

export interface FrozenPackage {
  ref: string;
  name: string;
  version: string;
  files: PlanFile[];
  /** The deployed section's steps, per OS the package has them for. */
  steps: Partial<Record<OsName, Step[]>>;
  inventoryAfter: boolean;
  removeAfter: boolean;
}

export interface Frozen {
  v: 1;
  section: Section;
  packages: FrozenPackage[];
}

export interface PackageChoice {
  ref: string;
  label: string;
}

export interface PackageSource {
  /** What a user may deploy (the launch page's choice). */
  list(): PackageChoice[];
  /**
   * The package `ref` and its dependencies, dependencies first, with the steps of
   * `section`, and its transfer settings; throws an Error saying why it cannot be deployed.
   */
  resolve(ref: string, section: Section): { packages: FrozenPackage[]; name: string; version: string; transfer: "pull" | "push"; bandwidthKbps: number; priority: "high" | "normal" };
  /** The stored file with this SHA-256, on disk; null when the store does not hold it. */
  filePath(sha256: string): string | null;
}

export function freeze(section: Section, packages: FrozenPackage[]): string {
  return JSON.stringify({ v: 1, section, packages } satisfies Frozen);
}

/** The machines table's OS names, as the descriptor spells them. */
export function descriptorOs(machineOs: string): OsName | null {
  return machineOs === "windows" ? "windows" : machineOs === "linux" ? "linux" : machineOs === "darwin" || machineOs === "macos" ? "macos" : null;
}

/** The plan one machine runs, as sent (its JSON and SHA-256 are what the agent checks), or why there is none. */
export function planFor(frozenJson: string, machineOs: string, deploymentId: number): { plan: Plan; json: string; sha256: string } | { error: string } {
  const frozen = JSON.parse(frozenJson) as Frozen;
  const os = descriptorOs(machineOs);
  if (!os) return { error: `the machine's system (${machineOs || "unknown"}) is not one packages target` };
  const packages = [];
  for (const p of frozen.packages) {
    const steps = p.steps[os];
    if (!steps?.length) return { error: `${p.name} ${p.version} has no ${frozen.section} steps for ${os}` };
    packages.push({ ref: p.ref, name: p.name, version: p.version, files: p.files, steps, inventoryAfter: p.inventoryAfter, removeAfter: p.removeAfter });
  }
  const plan: Plan = { v: 1, deploymentId, section: frozen.section, os, packages };
  const json = JSON.stringify(plan);
  return { plan, json, sha256: new Bun.CryptoHasher("sha256").update(json).digest("hex") };
}

/** Every file SHA-256 of a frozen deployment (the file route lets its machines fetch these only). */
export function frozenFiles(frozenJson: string): Set<string> {
  const frozen = JSON.parse(frozenJson) as Frozen;
  return new Set(frozen.packages.flatMap((p) => p.files.map((f) => f.sha256)));
}
