/**
 * @module machine-groups/service
 * Machine groups (SPEC C4–C7), without HTTP. Static groups hold the machines picked or
 * imported; dynamic groups hold their query's result, re-evaluated when a machine changes
 * (inventory stored, presence, facts), when a group they name changes, when their query
 * is saved, and every 15 minutes for the criteria that move with time alone ("last seen
 * more than N days ago"). Groups naming groups are evaluated in dependency order; a cycle
 * is refused when saved. Every entry and exit is written to `machine_group_events` and
 * handed to `onMembership` listeners after commit: the convergence feature builds on
 * these, and on `members` / `groupsOf`, which read the stored membership (never evaluate).
 *
 * Rights: any holder of `machinegroups.view` sees every group; machines are shown, counted
 * and picked only within the reader's entities, and a save by a reader who sees fewer
 * entities keeps the members it cannot see.
 */
import type { Database } from "bun:sqlite";
import type { Clock } from "../../clock.ts";
import { Conflict, Invalid, NotFound } from "../../errors.ts";
import type { MessageKey } from "../../i18n/index.ts";
import type { EntitiesService, Viewer } from "../entities/service.ts";
import type { Recorder } from "../history/service.ts";
import { compileQuery, groupRefs, parseQuery, QueryError, type Node, type Resolver } from "./query.ts";
import { groupsRepo, type GroupRow } from "./repo.ts";

export interface MembershipEvent {
  groupId: number;
  machineId: number;
  change: "entered" | "left";
  at: number;
}
export type MembershipListener = (events: MembershipEvent[]) => void;

export interface GroupInput {
  name: unknown;
  description?: unknown;
  favourite?: boolean;
}

export const MAX_STATIC_MEMBERS = 50_000;

function groupName(input: unknown): string {
  const name = typeof input === "string" ? input.trim().replace(/\s+/g, " ") : "";
  if (!name) throw new Invalid({ name: "error.field.required" });
  if (name.length > 100) throw new Invalid({ name: "error.field.tooLong" });
  return name;
}

const descriptionOf = (v: unknown) => (typeof v === "string" ? v.trim().slice(0, 500) : "");

/** A query error as the field error the builder shows. */
export function invalidQuery(err: QueryError): Invalid {
  return new Invalid({ query: err.key as MessageKey }, err.key as MessageKey, err.params);
}

export function createMachineGroupsService(deps: { db: Database; clock: Clock; recorder: Recorder; entities: EntitiesService }) {
  const repo = groupsRepo(deps.db);
  const listeners: MembershipListener[] = [];
  const visible = (viewer: Viewer) => [...deps.entities.visibleIds(viewer)];

  /** What compiling reads from the tables, read once per evaluation however many groups need it. */
  const resolver = (): Resolver => {
    const distinct = new Map<string, string[]>();
    let addresses: string[] | null = null;
    return {
      now: deps.clock.now(),
      distinct: (sql) => distinct.get(sql) ?? (distinct.set(sql, repo.distinct(sql)), distinct.get(sql)!),
      addresses: () => (addresses ??= repo.addresses()),
    };
  };

  function checked(input: unknown): Node {
    try {
      return parseQuery(input);
    } catch (err) {
      if (err instanceof QueryError) throw invalidQuery(err);
      throw err;
    }
  }

  /** The groups a query names must exist; naming itself, or a group that names it, is a cycle. */
  function checkRefs(selfId: number | null, refs: number[]): void {
    for (const id of refs) if (!repo.find(id)) throw invalidQuery(new QueryError("mgroups.query.group", { id }));
    if (selfId === null) return;
    const edges = new Map<number, number[]>();
    for (const r of repo.refs()) if (r.group_id !== selfId) edges.set(r.group_id, [...(edges.get(r.group_id) ?? []), r.refers_to]);
    const seen = new Set<number>();
    const stack = [...refs];
    while (stack.length) {
      const id = stack.pop()!;
      if (id === selfId) throw invalidQuery(new QueryError("mgroups.query.cycle", { name: repo.find(selfId)!.name }));
      if (seen.has(id)) continue;
      seen.add(id);
      stack.push(...(edges.get(id) ?? []));
    }
  }

  /** Dynamic groups, each after the groups it names. */
  function evaluationOrder(): GroupRow[] {
    const groups = repo.dynamic();
    const byId = new Map(groups.map((g) => [g.id, g]));
    const refs = new Map<number, number[]>();
    for (const r of repo.refs()) refs.set(r.group_id, [...(refs.get(r.group_id) ?? []), r.refers_to]);
    const out: GroupRow[] = [];
    const state = new Map<number, "visiting" | "done">();
    const visit = (g: GroupRow) => {
      if (state.get(g.id)) return; // done, or a cycle that saving refused: never loop
      state.set(g.id, "visiting");
      for (const to of refs.get(g.id) ?? []) {
        const dep = byId.get(to);
        if (dep) visit(dep);
      }
      state.set(g.id, "done");
      out.push(g);
    };
    for (const g of groups) visit(g);
    return out;
  }

  /** Sets a group's members to `target` (for `scope` machines only); returns the events. */
  function applyMembers(groupId: number, target: Set<number>, scope: number[] | null, now: number): MembershipEvent[] {
    let current: Set<number>;
    if (scope === null) current = new Set(repo.members(groupId));
    else if (scope.length <= 32) current = new Set(scope.filter((m) => repo.isMember(groupId, m)));
    else {
      const inScope = new Set(scope);
      current = new Set(repo.members(groupId).filter((m) => inScope.has(m)));
    }
    const events: MembershipEvent[] = [];
    for (const m of target) {
      if (current.has(m)) continue;
      repo.addMember(groupId, m, now);
      repo.event(groupId, m, "entered", now);
      events.push({ groupId, machineId: m, change: "entered", at: now });
    }
    for (const m of current) {
      if (target.has(m)) continue;
      repo.removeMember(groupId, m);
      repo.event(groupId, m, "left", now);
      events.push({ groupId, machineId: m, change: "left", at: now });
    }
    return events;
  }

  function emit(events: MembershipEvent[]): void {
    if (events.length === 0) return;
    for (const l of listeners) l(events);
  }

  /** One dynamic group, whole (inside a transaction). */
  function evaluateGroup(g: GroupRow, now: number, r: Resolver = resolver()): MembershipEvent[] {
    if (g.kind !== "dynamic" || !g.query) return [];
    const { where, params } = compileQuery(parseQuery(g.query), r);
    const events = applyMembers(g.id, new Set(repo.matching(where, params, null)), null, now);
    repo.evaluated(g.id, now);
    return events;
  }

  /** Re-evaluates every dynamic group that names `groupId`, directly or not. */
  function evaluateDependents(groupId: number, now: number): MembershipEvent[] {
    const refs = repo.refs();
    const affected = new Set<number>();
    const stack = [groupId];
    while (stack.length) {
      const id = stack.pop()!;
      for (const r of refs) if (r.refers_to === id && !affected.has(r.group_id)) {
        affected.add(r.group_id);
        stack.push(r.group_id);
      }
    }
    return evaluationOrder().filter((g) => affected.has(g.id)).flatMap((g) => evaluateGroup(g, now));
  }

  function mustFind(id: number): GroupRow {
    const g = repo.find(id);
    if (!g) throw new NotFound();
    return g;
  }

  function uniqueName(name: string, selfId: number | null): void {
    const other = repo.findByName(name);
    if (other && other.id !== selfId) throw new Invalid({ name: "mgroups.error.nameTaken" });
  }

  const audit = (viewer: Viewer, ip: string, action: MessageKey, params: Record<string, string | number>, g: { id: number; name: string }) =>
    deps.recorder.record({ module: "machines", action, params, criterion: "machine", userId: viewer.id, userLogin: viewer.login, sourceIp: ip, target: { type: "machine-group", id: g.id, name: g.name } });

  /** In a transaction: write, evaluate; after commit: tell listeners. */
  function write<T>(fn: (now: number) => { result: T; events: MembershipEvent[] }): T {
    const now = deps.clock.now();
    const out = deps.db.transaction(() => fn(now))();
    emit(out.events);
    return out.result;
  }

  return {
    // ---- reading (other features use these) ------------------------------------------
    /** Every member's machine id (stored membership, all entities). */
    members: (groupId: number): number[] => repo.members(groupId),
    /** Every group the machine is in. */
    groupsOf: (machineId: number): number[] => repo.groupsOf(machineId),
    /** Entered/left events after commit, in order. */
    onMembership(listener: MembershipListener): void {
      listeners.push(listener);
    },
    /** Events after `afterId` (all groups), oldest first: for consumers catching up after a restart. */
    eventsAfter: (afterId: number, limit = 1000) => repo.eventsAfter(afterId, Math.min(Math.max(limit, 1), 10_000)),
    /** Entered/left events older than `days` go (a daily job); membership itself stays. */
    purgeEvents: (days: number) => repo.purgeEvents(deps.clock.now() - days * 86_400_000),
    find: (id: number) => repo.find(id),
    all: () => repo.all(),

    // ---- pages -----------------------------------------------------------------------
    get: (_viewer: Viewer, id: number) => mustFind(id),
    list(viewer: Viewer, o: { search?: string; after?: { n: string; id: number } | null; limit?: number; favouritesOnly?: boolean } = {}) {
      const limit = Math.min(Math.max(o.limit ?? 50, 1), 500);
      const rows = repo.list({ entities: visible(viewer), userId: viewer.id, search: (o.search ?? "").trim().slice(0, 100), afterName: o.after?.n ?? null, afterId: o.after?.id ?? null, limit: limit + 1, favouritesOnly: o.favouritesOnly ?? false });
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return { items, next: rows.length > limit && last ? { n: last.name, id: last.id } : null };
    },
    visibleMembers(viewer: Viewer, id: number, o: { search?: string; after?: { n: string; id: number } | null; limit?: number } = {}) {
      mustFind(id);
      const limit = Math.min(Math.max(o.limit ?? 50, 1), 1000);
      const rows = repo.visibleMembers({ groupId: id, entities: visible(viewer), search: (o.search ?? "").trim().slice(0, 100), afterName: o.after?.n ?? null, afterId: o.after?.id ?? null, limit: limit + 1 });
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return { items, next: rows.length > limit && last ? { n: last.hostname, id: last.id } : null };
    },
    /** Of `ids`, the machines in the viewer's entities. */
    visibleMachines: (viewer: Viewer, ids: number[]) => new Set(repo.visibleOf([...new Set(ids)], visible(viewer))),
    /** Ids of the members the viewer may act on. */
    visibleMemberIds: (viewer: Viewer, id: number) => repo.visibleOf(repo.members(mustFind(id).id), visible(viewer)),
    events: (_viewer: Viewer, id: number, before: number | null = null, limit = 50) => repo.events(mustFind(id).id, before, Math.min(Math.max(limit, 1), 500)),
    favourites: (userId: number) => repo.favourites(userId),
    isFavourite: (userId: number, groupId: number) => repo.isFavourite(userId, groupId),
    refsOf: (id: number) => repo.refsOf(id),

    /** What a query would select now: the count the viewer may see, and a few names. */
    preview(viewer: Viewer, query: unknown): { count: number; total: number; sample: string[] } {
      const node = checked(query);
      checkRefs(null, groupRefs(node));
      const { where, params } = compileQuery(node, resolver());
      const all = repo.matching(where, params, null);
      const seen = repo.visibleOf(all, visible(viewer));
      return { count: seen.length, total: all.length, sample: repo.names(seen.slice(0, 500)).slice(0, 10).map((m) => m.hostname) };
    },

    // ---- writing ---------------------------------------------------------------------
    createStatic(viewer: Viewer, input: GroupInput & { machineIds: number[]; origin?: "manual" | "import" }, ip: string): number {
      const name = groupName(input.name);
      if (input.machineIds.length > MAX_STATIC_MEMBERS) throw new Invalid({ machines: "mgroups.error.tooMany" });
      return write((now) => {
        uniqueName(name, null);
        const id = repo.insert({ name, kind: "static", query: null, origin: input.origin ?? "manual", description: descriptionOf(input.description), by: viewer.id }, now);
        if (input.favourite) repo.setFavourite(viewer.id, id, true);
        const ids = repo.visibleOf([...new Set(input.machineIds)], visible(viewer));
        const events = applyMembers(id, new Set(ids), null, now);
        audit(viewer, ip, input.origin === "import" ? "mgroups.history.imported" : "mgroups.history.created", { name, count: ids.length }, { id, name });
        return { result: id, events };
      });
    },

    createDynamic(viewer: Viewer, input: GroupInput & { query: unknown }, ip: string): number {
      const name = groupName(input.name);
      const node = checked(input.query);
      const refs = groupRefs(node);
      return write((now) => {
        uniqueName(name, null);
        checkRefs(null, refs);
        const id = repo.insert({ name, kind: "dynamic", query: JSON.stringify(node), origin: "manual", description: descriptionOf(input.description), by: viewer.id }, now);
        repo.setRefs(id, refs);
        if (input.favourite) repo.setFavourite(viewer.id, id, true);
        const events = evaluateGroup(repo.find(id)!, now);
        audit(viewer, ip, "mgroups.history.created", { name, count: repo.members(id).length }, { id, name });
        return { result: id, events };
      });
    },

    /** Renames, describes, and (dynamic) changes the query or (static) sets the members. */
    update(viewer: Viewer, id: number, input: GroupInput & { query?: unknown; machineIds?: number[] }, ip: string): void {
      const g = mustFind(id);
      const name = groupName(input.name);
      const node = g.kind === "dynamic" ? checked(input.query ?? g.query) : null;
      write((now) => {
        uniqueName(name, id);
        let events: MembershipEvent[] = [];
        if (node) {
          const refs = groupRefs(node);
          checkRefs(id, refs);
          repo.update(id, { name, description: descriptionOf(input.description ?? g.description), query: JSON.stringify(node) }, now);
          repo.setRefs(id, refs);
          events = evaluateGroup(repo.find(id)!, now);
        } else {
          repo.update(id, { name, description: descriptionOf(input.description ?? g.description), query: null }, now);
          if (input.machineIds) {
            if (input.machineIds.length > MAX_STATIC_MEMBERS) throw new Invalid({ machines: "mgroups.error.tooMany" });
            const seen = visible(viewer);
            const hidden = repo.members(id).filter((m) => !repo.visibleOf([m], seen).length);
            const picked = repo.visibleOf([...new Set(input.machineIds)], seen);
            events = applyMembers(id, new Set([...hidden, ...picked]), null, now);
          }
        }
        if (input.favourite !== undefined) repo.setFavourite(viewer.id, id, input.favourite);
        events.push(...evaluateDependents(id, now));
        audit(viewer, ip, "mgroups.history.updated", { name, count: repo.members(id).length }, { id, name });
        return { result: undefined, events };
      });
    },

    /** Adds or removes visible machines of a static group. */
    changeMembers(viewer: Viewer, id: number, add: number[], remove: number[], ip: string): void {
      const g = mustFind(id);
      if (g.kind !== "static") throw new Conflict("mgroups.error.notStatic");
      const seen = visible(viewer);
      const current = new Set(repo.members(id));
      for (const m of repo.visibleOf(add, seen)) current.add(m);
      for (const m of repo.visibleOf(remove, seen)) current.delete(m);
      if (current.size > MAX_STATIC_MEMBERS) throw new Invalid({ machines: "mgroups.error.tooMany" });
      write((now) => {
        const events = applyMembers(id, current, null, now);
        events.push(...evaluateDependents(id, now));
        audit(viewer, ip, "mgroups.history.updated", { name: g.name, count: current.size }, g);
        return { result: undefined, events };
      });
    },

    /**
     * Puts a machine in a static group on behalf of no user: a machine that registers itself
     * at network boot and picks its group. Recorded with `who` (the machine), no user.
     */
    addBySystem(id: number, machineId: number, who: string, ip: string): void {
      const g = mustFind(id);
      if (g.kind !== "static") throw new Conflict("mgroups.error.notStatic");
      const current = new Set(repo.members(id));
      if (current.has(machineId)) return;
      if (current.size >= MAX_STATIC_MEMBERS) throw new Invalid({ machines: "mgroups.error.tooMany" });
      current.add(machineId);
      write((now) => {
        const events = applyMembers(id, current, null, now);
        events.push(...evaluateDependents(id, now));
        deps.recorder.record({ module: "machines", action: "mgroups.history.updated", params: { name: g.name, count: current.size }, criterion: "machine", who, sourceIp: ip, target: { type: "machine-group", id: g.id, name: g.name } });
        return { result: undefined, events };
      });
    },

    remove(viewer: Viewer, id: number, ip: string): void {
      const g = mustFind(id);
      const users = repo.referrers(id);
      if (users.length) throw new Conflict("mgroups.error.inUse", { names: users.map((u) => u.name).join(", ") });
      write((now) => {
        const events = applyMembers(id, new Set(), null, now);
        repo.remove(id);
        audit(viewer, ip, "mgroups.history.deleted", { name: g.name, count: events.length }, g);
        return { result: undefined, events };
      });
    },

    setFavourite(viewer: Viewer, id: number, on: boolean): void {
      mustFind(id);
      repo.setFavourite(viewer.id, id, on);
    },

    // ---- re-evaluation ---------------------------------------------------------------
    /** Every dynamic group, in dependency order. */
    evaluateAll(): number {
      return write((now) => {
        const r = resolver();
        const events = evaluationOrder().flatMap((g) => evaluateGroup(g, now, r));
        return { result: events.length, events };
      }) as number;
    },

    /** One machine against every dynamic group (after its inventory, facts or presence changed). */
    evaluateMachine(machineId: number): MembershipEvent[] {
      return this.evaluateMachines([machineId]);
    },

    /**
     * Machines against every dynamic group, in dependency order: each group's query is
     * compiled once and run once for the whole batch (a presence storm at start is one
     * statement per group, not one per machine and group).
     */
    evaluateMachines(machineIds: number[]): MembershipEvent[] {
      const ids = [...new Set(machineIds)];
      if (ids.length === 0) return [];
      return write((now) => {
        const events: MembershipEvent[] = [];
        const alive = new Set(repo.existing(ids));
        // Deleted: their memberships went with them; close what the events still show open.
        for (const m of ids) {
          if (alive.has(m)) continue;
          for (const g of repo.openGroupsOf(m)) {
            repo.event(g, m, "left", now);
            events.push({ groupId: g, machineId: m, change: "left", at: now });
          }
        }
        const present = [...alive];
        if (present.length) {
          const r = resolver();
          for (const g of evaluationOrder()) {
            const { where, params } = compileQuery(parseQuery(g.query), r);
            events.push(...applyMembers(g.id, new Set(repo.matching(where, params, present)), present, now));
          }
        }
        return { result: events, events };
      });
    },
  };
}

export type MachineGroupsService = ReturnType<typeof createMachineGroupsService>;
