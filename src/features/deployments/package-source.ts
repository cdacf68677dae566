/**
 * @module deployments/package-source
 * The adapter between the packages feature and deployments: what the engine needs of a
 * package store (`PackagesLike`, the subset of the packages service it calls) turned into
 * a `PackageSource`: the choice of packages, a package with its dependencies resolved
 * (dependencies first, cycles and missing ones refused with a message), and where a file
 * is on disk by its SHA-256. Kept structural so either side can change without the other.
 */
import { compareVersionsLoose } from "./versions.ts";
import type { Descriptor } from "../packages/descriptor.ts";
import type { FrozenPackage, PackageSource } from "./plan.ts";
import type { Section } from "./repo.ts";

export interface PackagesLike {
  list(opts?: { limit?: number }): { items: { id: number; name: string; version: string }[] };
  find(id: number): { id: number; name: string; version: string } | null;
  descriptor(id: number): Descriptor;
  files(id: number): { path: string; sha256: string; size: number }[];
  blobPath(sha256: string): string;
  /** Locks a version once deployed (editing then makes a new version). */
  markDeployed?(id: number): void;
}

export function createPackageSource(pkgs: PackagesLike): PackageSource {
  const all = () => pkgs.list({ limit: 100_000 }).items;
  const byDependency = (name: string, version?: string) => {
    const same = all().filter((p) => p.name.toLowerCase() === name.toLowerCase() && (!version || p.version === version));
    return same.sort((a, b) => compareVersionsLoose(b.version, a.version))[0] ?? null;
  };
  return {
    list: () => all().map((p) => ({ ref: String(p.id), label: `${p.name} ${p.version}` })),
    resolve(ref: string, section: Section) {
      const root = /^\d+$/.test(ref) ? pkgs.find(Number(ref)) : null;
      if (!root) throw new Error(`package ${ref} does not exist`);
      const ordered: FrozenPackage[] = [];
      const done = new Set<number>();
      const visit = (id: number, path: string[]) => {
        if (done.has(id)) return;
        const p = pkgs.find(id)!;
        const label = `${p.name} ${p.version}`;
        if (path.includes(label)) throw new Error(`dependency cycle: ${[...path, label].join(" → ")}`);
        const d = pkgs.descriptor(id);
        for (const dep of d.dependencies) {
          const found = byDependency(dep.name, dep.version);
          if (!found) throw new Error(`${label} needs ${dep.name}${dep.version ? ` ${dep.version}` : ""}, which does not exist`);
          visit(found.id, [...path, label]);
        }
        done.add(id);
        const steps: FrozenPackage["steps"] = {};
        for (const os of ["windows", "linux", "macos"] as const) {
          // Dependencies are installed; the chosen section applies to the package itself.
          const s = d.steps[os]?.[id === root.id ? section : "install"];
          if (s?.length) steps[os] = s;
        }
        ordered.push({ ref: String(id), name: p.name, version: p.version, files: pkgs.files(id).map((f) => ({ path: f.path, sha256: f.sha256, size: f.size })), steps, inventoryAfter: d.inventoryAfter, removeAfter: d.removeAfter });
      };
      visit(root.id, []);
      if (!ordered.some((p) => p.ref === String(root.id) && Object.keys(p.steps).length > 0)) throw new Error(`${root.name} ${root.version} has no ${section} steps`);
      const d = pkgs.descriptor(root.id);
      for (const p of ordered) pkgs.markDeployed?.(Number(p.ref));
      return { packages: ordered, name: root.name, version: root.version, transfer: d.transfer.method, bandwidthKbps: d.transfer.bandwidthKbps, priority: d.priority };
    },
    filePath(sha256: string) {
      try {
        return pkgs.blobPath(sha256);
      } catch {
        return null;
      }
    },
  };
}

/** For an appliance without the packages feature wired: nothing to deploy. */
export const noPackages: PackageSource = {
  list: () => [],
  resolve: () => {
    throw new Error("no package store");
  },
  filePath: () => null,
};
