/**
 * @module groups/service
 * User groups (SPEC U4): a name that starts with a letter and holds only lowercase letters
 * and digits, a description, an entity, members, and granted keys that add to each
 * member's own (DESIGN.md "The registry": rights are a union).
 */
import type { Database } from "bun:sqlite";
import type { Clock } from "../../clock.ts";
import { Forbidden, Invalid, NotFound } from "../../errors.ts";
import type { MessageKey } from "../../i18n/index.ts";
import type { EntitiesService, Viewer } from "../entities/service.ts";
import type { Recorder } from "../history/service.ts";
import { groupsRepo, type GroupRow } from "./repo.ts";

export const GROUP_NAME = /^[a-z][a-z0-9]{0,63}$/;

export interface GroupInput {
  name: unknown;
  description: unknown;
  entityId: unknown;
}

export function createGroupsService(deps: { db: Database; clock: Clock; recorder: Recorder; entities: EntitiesService; onRightsChanged: () => void }) {
  const repo = groupsRepo(deps.db);

  function validate(viewer: Viewer, input: GroupInput, id?: number) {
    const name = typeof input.name === "string" ? input.name.trim() : "";
    const description = typeof input.description === "string" ? input.description.trim() : "";
    const entityId = input.entityId === undefined || input.entityId === "" ? 1 : Number(input.entityId);
    const fields: Record<string, MessageKey> = {};
    if (!name) fields.name = "error.field.required";
    else if (!GROUP_NAME.test(name)) fields.name = "groups.error.name";
    else {
      const clash = repo.findByName(name);
      if (clash && clash.id !== id) fields.name = "groups.error.duplicate";
    }
    if (description.length > 500) fields.description = "error.field.tooLong";
    if (!Number.isInteger(entityId) || !deps.entities.visibleIds(viewer).has(entityId)) fields.entityId = "entities.error.parent";
    if (Object.keys(fields).length) throw new Invalid(fields);
    return { name, description, entityId };
  }

  function mustSee(viewer: Viewer, id: number): GroupRow {
    const g = repo.find(id);
    if (!g) throw new NotFound();
    if (!deps.entities.visibleIds(viewer).has(g.entity_id)) throw new Forbidden();
    return g;
  }

  const audit = (viewer: Viewer, ip: string, action: MessageKey, name: string, id: number, extra: Record<string, string> = {}) =>
    deps.recorder.record({ module: "users", action, params: { name, ...extra }, criterion: "user", userId: viewer.id, userLogin: viewer.login, sourceIp: ip, target: { type: "group", id, name } });

  return {
    list(viewer: Viewer, opts: { search?: string; after?: string; limit?: number } = {}): { items: GroupRow[]; next: string | null } {
      const limit = Math.min(Math.max(opts.limit ?? 50, 1), 500);
      const visible = deps.entities.visibleIds(viewer);
      const search = (opts.search ?? "").replace(/[\\%_]/g, (c) => `\\${c}`).slice(0, 100);
      // Visibility is a filter on a small table: fetch a page, keep the visible, go on if short.
      const items: GroupRow[] = [];
      let after = opts.after ?? "";
      for (;;) {
        const batch = repo.list(search, after, limit + 1);
        for (const g of batch) if (visible.has(g.entity_id)) items.push(g);
        if (batch.length <= limit || items.length > limit) break;
        after = batch.at(-1)!.name;
      }
      const page = items.slice(0, limit);
      return { items: page, next: items.length > limit ? page.at(-1)!.name : null };
    },
    get: mustSee,
    all: () => repo.all(),
    members: (viewer: Viewer, id: number) => (mustSee(viewer, id), repo.members(id)),
    grants: (viewer: Viewer, id: number) => (mustSee(viewer, id), repo.grants(id)),

    create(viewer: Viewer, input: GroupInput, ip: string): number {
      return deps.db.transaction(() => {
        const g = validate(viewer, input);
        const id = repo.insert({ ...g, now: deps.clock.now() });
        audit(viewer, ip, "groups.history.created", g.name, id);
        return id;
      })();
    },

    update(viewer: Viewer, id: number, input: GroupInput, ip: string): void {
      mustSee(viewer, id);
      deps.db.transaction(() => {
        const g = validate(viewer, input, id);
        repo.update({ id, ...g, now: deps.clock.now() });
        audit(viewer, ip, "groups.history.updated", g.name, id);
      })();
    },

    remove(viewer: Viewer, id: number, ip: string): void {
      const g = mustSee(viewer, id);
      deps.db.transaction(() => {
        repo.remove(id);
        audit(viewer, ip, "groups.history.deleted", g.name, id);
      })();
      deps.onRightsChanged();
    },

    addMember(viewer: Viewer, id: number, userId: number, ip: string, login: string): void {
      const g = mustSee(viewer, id);
      deps.db.transaction(() => {
        if (repo.addMember(id, userId)) audit(viewer, ip, "groups.history.memberAdded", g.name, id, { login });
      })();
      deps.onRightsChanged();
    },

    removeMember(viewer: Viewer, id: number, userId: number, ip: string, login: string): void {
      const g = mustSee(viewer, id);
      deps.db.transaction(() => {
        if (repo.removeMember(id, userId)) audit(viewer, ip, "groups.history.memberRemoved", g.name, id, { login });
      })();
      deps.onRightsChanged();
    },

    /** Replaces the group's keys; callers check that the editor may grant each key. */
    setGrants(viewer: Viewer, id: number, keys: string[], ip: string): void {
      const g = mustSee(viewer, id);
      deps.db.transaction(() => {
        repo.setGrants(id, keys);
        audit(viewer, ip, "groups.history.rights", g.name, id, { keys: keys.join(", ") || "—" });
      })();
      deps.onRightsChanged();
    },
  };
}

export type GroupsService = ReturnType<typeof createGroupsService>;
