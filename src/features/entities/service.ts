/**
 * @module entities/service
 * The entity tree (SPEC U5): Root and its descendants. Users see the entities granted to
 * them, and their descendants when their rights say Recursive; the super-administrator sees
 * all. Everything that belongs to an entity (users' grants, user groups, and later machines,
 * packages, kiosk profiles, imaging servers) blocks its deletion: features declare their
 * usage with `addUsage`, so the check stays complete as features arrive.
 */
import type { Database } from "bun:sqlite";
import type { Clock } from "../../clock.ts";
import { Conflict, Forbidden, Invalid, NotFound } from "../../errors.ts";
import type { MessageKey } from "../../i18n/index.ts";
import type { Recorder } from "../history/service.ts";
import { entitiesRepo, type EntityRow } from "./repo.ts";

export const ROOT_ENTITY = 1;

export interface Viewer {
  id: number;
  login: string;
  isSuper: boolean;
}

export interface EntityNode {
  id: number;
  name: string;
  parentId: number | null;
  depth: number;
  path: string;
}

interface Usage {
  label: MessageKey;
  count(entityId: number): number;
}

export function entityName(input: unknown): string {
  const name = typeof input === "string" ? input.trim() : "";
  if (!name) throw new Invalid({ name: "error.field.required" });
  if (name.length > 100) throw new Invalid({ name: "error.field.tooLong" });
  return name;
}

export function createEntitiesService(deps: { db: Database; clock: Clock; recorder: Recorder }) {
  const repo = entitiesRepo(deps.db);
  const usages: Usage[] = [
    { label: "entities.usage.children", count: (id) => repo.childCount(id) },
    { label: "entities.usage.users", count: (id) => repo.userCount(id) },
    { label: "entities.usage.groups", count: (id) => repo.groupCount(id) },
  ];
  /** Entities granted to a user, kept by the users feature; set at wiring time. */
  let grantedTo: (userId: number) => { ids: number[]; recursive: boolean } = () => ({ ids: [], recursive: false });

  /** The whole tree in display order (depth-first, siblings by name), with paths. */
  function tree(): EntityNode[] {
    const rows = repo.all();
    const children = new Map<number | null, EntityRow[]>();
    for (const r of rows) children.set(r.parent_id, [...(children.get(r.parent_id) ?? []), r]);
    const out: EntityNode[] = [];
    const walk = (parent: number | null, depth: number, prefix: string) => {
      for (const r of children.get(parent) ?? []) {
        const path = prefix ? `${prefix} › ${r.name}` : r.name;
        out.push({ id: r.id, name: r.name, parentId: r.parent_id, depth, path });
        walk(r.id, depth + 1, path);
      }
    };
    walk(null, 0, "");
    return out;
  }

  /** Ids of the entities `viewer` may see. */
  function visibleIds(viewer: Viewer): Set<number> {
    if (viewer.isSuper) return new Set(repo.all().map((r) => r.id));
    const { ids, recursive } = grantedTo(viewer.id);
    if (!recursive) return new Set(ids);
    return new Set(ids.flatMap((id) => repo.subtree(id)));
  }

  function mustSee(viewer: Viewer, id: number): EntityRow {
    const row = repo.find(id);
    if (!row) throw new NotFound();
    if (!visibleIds(viewer).has(id)) throw new Forbidden();
    return row;
  }

  const audit = (viewer: Viewer, ip: string, action: MessageKey, params: Record<string, string | number>, target: { id: number; name: string }) =>
    deps.recorder.record({ module: "users", action, params, criterion: "user", userId: viewer.id, userLogin: viewer.login, sourceIp: ip, target: { type: "entity", ...target } });

  return {
    tree,
    visibleIds,
    /** The tree restricted to what `viewer` sees (paths still show the full ancestry). */
    visibleTree: (viewer: Viewer) => {
      const ids = visibleIds(viewer);
      return tree().filter((n) => ids.has(n.id));
    },
    get: (viewer: Viewer, id: number) => mustSee(viewer, id),
    setGrantSource(source: typeof grantedTo) {
      grantedTo = source;
    },
    addUsage(usage: Usage) {
      usages.push(usage);
    },
    usage(id: number): { label: MessageKey; count: number }[] {
      return usages.map((u) => ({ label: u.label, count: u.count(id) })).filter((u) => u.count > 0);
    },

    create(viewer: Viewer, input: { name: unknown; parentId: unknown }, ip: string): number {
      const name = entityName(input.name);
      const parentId = Number(input.parentId);
      if (!Number.isInteger(parentId) || !repo.find(parentId)) throw new Invalid({ parentId: "entities.error.parent" });
      mustSee(viewer, parentId);
      return deps.db.transaction(() => {
        if (repo.findByName(parentId, name)) throw new Invalid({ name: "entities.error.duplicate" });
        const id = repo.insert(name, parentId, deps.clock.now());
        audit(viewer, ip, "entities.history.created", { name }, { id, name });
        return id;
      })();
    },

    rename(viewer: Viewer, id: number, input: { name: unknown }, ip: string): void {
      const row = mustSee(viewer, id);
      const name = entityName(input.name);
      deps.db.transaction(() => {
        const clash = repo.findByName(row.parent_id, name);
        if (clash && clash.id !== id) throw new Invalid({ name: "entities.error.duplicate" });
        repo.rename(id, name, deps.clock.now());
        audit(viewer, ip, "entities.history.renamed", { old: row.name, name }, { id, name });
      })();
    },

    move(viewer: Viewer, id: number, input: { parentId: unknown }, ip: string): void {
      const row = mustSee(viewer, id);
      if (id === ROOT_ENTITY) throw new Conflict("entities.error.root");
      const parentId = Number(input.parentId);
      if (!Number.isInteger(parentId) || !repo.find(parentId)) throw new Invalid({ parentId: "entities.error.parent" });
      mustSee(viewer, parentId);
      if (repo.subtree(id).includes(parentId)) throw new Invalid({ parentId: "entities.error.cycle" });
      deps.db.transaction(() => {
        if (repo.findByName(parentId, row.name)) throw new Invalid({ parentId: "entities.error.duplicate" });
        repo.move(id, parentId, deps.clock.now());
        audit(viewer, ip, "entities.history.moved", { name: row.name, parent: repo.find(parentId)!.name }, { id, name: row.name });
      })();
    },

    /** Rename and move at once: both or neither (the inner transactions nest as savepoints). */
    update(viewer: Viewer, id: number, input: { name: unknown; parentId: unknown }, ip: string): void {
      deps.db.transaction(() => {
        const current = mustSee(viewer, id);
        if (entityName(input.name) !== current.name) this.rename(viewer, id, { name: input.name }, ip);
        if (input.parentId !== undefined && Number(input.parentId) !== current.parent_id) this.move(viewer, id, { parentId: input.parentId }, ip);
      })();
    },

    remove(viewer: Viewer, id: number, ip: string): void {
      const row = mustSee(viewer, id);
      if (id === ROOT_ENTITY) throw new Conflict("entities.error.root");
      deps.db.transaction(() => {
        const used = usages.map((u) => ({ label: u.label, count: u.count(id) })).filter((u) => u.count > 0);
        if (used.length) throw new Conflict("entities.error.inUse", { name: row.name });
        repo.remove(id);
        audit(viewer, ip, "entities.history.deleted", { name: row.name }, { id, name: row.name });
      })();
    },
  };
}

export type EntitiesService = ReturnType<typeof createEntitiesService>;
