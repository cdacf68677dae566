/**
 * @module deployments/wire
 * Plugs the features written beside deployments into it, in one call from src/app.ts once
 * they are all registered: the package store (packages feature), machine groups (members,
 * names, entered/left events for convergence, and the "deploy software" group action), and
 * Wake-on-LAN (actions feature). Each part is optional and typed structurally, so this
 * file depends on none of those features' modules.
 */
import type { Viewer } from "../entities/service.ts";
import type { Deployments } from "./index.tsx";
import { createPackageSource, type PackagesLike } from "./package-source.ts";

export interface GroupsLike {
  service: {
    members(groupId: number): number[];
    all(): { id: number; name: string }[];
    onMembership(listener: (events: { groupId: number; machineId: number; change: "entered" | "left" }[]) => void): void;
  };
  actions?: {
    register(action: {
      id: string; label: "deploy.groupAction"; permission: string; kind: "download" | "post"; order?: number;
      run(ctx: { groupId: number; machineIds: number[]; viewer: Viewer }): Response | { count: number; message?: string };
    }): void;
  };
}

export interface WakeLike {
  wake(viewer: Viewer | null, machineIds: number[], ip: string, who?: string): unknown;
  /** Whether a wake can reach the machine at all (a MAC is known). */
  wakeable?(machineId: number): boolean;
}

export function wireDeployments(d: Deployments, parts: { packages?: PackagesLike & { setUsage?(fn: (packageId: number) => number): void }; groups?: GroupsLike; wol?: WakeLike }): void {
  if (parts.packages) {
    d.usePackages(createPackageSource(parts.packages));
    parts.packages.setUsage?.((id) => d.usageOf(String(id)));
  }
  if (parts.groups) {
    const g = parts.groups;
    d.useGroups((id) => g.service.members(id), () => g.service.all().map((x) => ({ id: x.id, name: x.name })));
    g.service.onMembership((events) => {
      for (const e of events) d.convergence.membershipChanged(e.groupId, e.machineId, e.change);
    });
    g.actions?.register({
      id: "deploy-software", label: "deploy.groupAction", permission: d.perms.launch, kind: "download", order: 20,
      run: (c) => new Response(null, { status: 303, headers: { location: `/deployments/new?group=${c.groupId}` } }),
    });
  }
  if (parts.wol) {
    const wol = parts.wol;
    d.useWake(async (ids) => void (await wol.wake(null, ids, "", "deployment")), wol.wakeable ? (id) => wol.wakeable!(id) : undefined);
  }
}
