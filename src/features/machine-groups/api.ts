/**
 * @module machine-groups/api
 * The JSON API of machine groups (`/api/v1/machine-groups…`): list, read, create (static
 * with machine ids, dynamic with a query), change, delete, members, entered/left events,
 * preview of a query, group actions, and the import (multipart, one call: the file, the
 * meaning of each column, `dryRun` to check only).
 */
import type { Database } from "bun:sqlite";
import { Type } from "@sinclair/typebox";
import { Invalid } from "../../errors.ts";
import { decodeCursor, encodeCursor, ListQuery, Page } from "../../web/api.ts";
import type { Web } from "../../web/app.tsx";
import type { RequestContext } from "../../web/context.ts";
import { json } from "../../web/respond.ts";
import type { EntitiesService } from "../entities/service.ts";
import { viewerOf } from "../users/index.tsx";
import type { GroupActions } from "./actions.ts";
import { COLUMN_KINDS, matchRows, type ColumnKind } from "./import.ts";
import { LIMITS } from "./query.ts";
import type { GroupRow } from "./repo.ts";
import type { MachineGroupsService } from "./service.ts";
import { readTableFile, TableFileError, TABLE_LIMITS } from "./table-file.ts";

const iso = (ms: number | null) => (ms ? new Date(ms).toISOString() : null);
const Id = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const CursorKey = Type.Object({ n: Type.String(), id: Type.Integer() });

const Group = Type.Object({
  id: Type.Integer(), name: Type.String(), kind: Type.Union([Type.Literal("static"), Type.Literal("dynamic")]), origin: Type.Union([Type.Literal("manual"), Type.Literal("import")]),
  description: Type.String(), query: Type.Union([Type.Unknown(), Type.Null()], { description: "A dynamic group's query (see docs/groups.md)" }),
  members: Type.Integer({ description: "Members in the caller's entities" }), favourite: Type.Boolean(),
  evaluatedAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]), createdAt: Type.String({ format: "date-time" }), updatedAt: Type.String({ format: "date-time" }),
});

const Query = Type.Unknown({ description: `A query tree: { "all" | "any" | "none": [rules or blocks] }; a rule is { "field", "op", "value" } (at most ${LIMITS.rules} rules, ${LIMITS.depth} levels)` });

export function registerMachineGroupsApi(
  web: Web,
  deps: { service: MachineGroupsService; actions: GroupActions; perms: { view: string; edit: string; del: string; export: string }; machinesDb: Database; entities: EntitiesService; runAction: (ctx: RequestContext, id: number, action: string) => Promise<Response> },
): void {
  const { service, perms } = deps;
  const toApi = (ctx: RequestContext, g: GroupRow) => {
    const viewer = viewerOf(ctx);
    return {
      id: g.id, name: g.name, kind: g.kind, origin: g.origin, description: g.description, query: g.query ? JSON.parse(g.query) : null,
      members: service.visibleMemberIds(viewer, g.id).length, favourite: service.isFavourite(viewer.id, g.id),
      evaluatedAt: iso(g.evaluated_at), createdAt: iso(g.created_at)!, updatedAt: iso(g.updated_at)!,
    };
  };

  web.api({
    method: "GET", path: "/api/v1/machine-groups", permission: perms.view, tags: ["machine-groups"], summary: "List machine groups",
    query: Type.Composite([ListQuery, Type.Object({ search: Type.Optional(Type.String({ maxLength: 100 })), favourites: Type.Optional(Type.Boolean({ description: "Only the caller's favourites" })) })]),
    response: Page(Group),
    handler: ({ ctx, query }) => {
      const page = service.list(viewerOf(ctx), { search: query.search, after: decodeCursor(CursorKey, query.cursor) ?? null, limit: query.limit, favouritesOnly: query.favourites });
      return { items: page.items.map((g) => toApi(ctx, g)), next: page.next ? encodeCursor(page.next) : null };
    },
  });

  web.api({
    method: "GET", path: "/api/v1/machine-groups/:id", permission: perms.view, tags: ["machine-groups"], summary: "One machine group",
    params: Id, response: Group,
    handler: ({ ctx, params }) => toApi(ctx, service.get(viewerOf(ctx), params.id)),
  });

  web.api({
    method: "POST", path: "/api/v1/machine-groups", permission: perms.edit, tags: ["machine-groups"], summary: "Create a static or dynamic group", status: 201,
    description: "A static group takes `machineIds` (machines outside the caller's entities are left out); a dynamic group takes `query` and is evaluated at once.",
    body: Type.Object({
      name: Type.String({ minLength: 1, maxLength: 100 }), kind: Type.Union([Type.Literal("static"), Type.Literal("dynamic")]), description: Type.Optional(Type.String({ maxLength: 500 })),
      favourite: Type.Optional(Type.Boolean()), machineIds: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 50_000 })), query: Type.Optional(Query),
    }),
    response: Group,
    handler: ({ ctx, body }) => {
      const viewer = viewerOf(ctx);
      const id = body.kind === "static"
        ? service.createStatic(viewer, { name: body.name, description: body.description, favourite: body.favourite, machineIds: body.machineIds ?? [] }, ctx.ip)
        : service.createDynamic(viewer, { name: body.name, description: body.description, favourite: body.favourite, query: body.query ?? null }, ctx.ip);
      return toApi(ctx, service.get(viewer, id));
    },
  });

  web.api({
    method: "PUT", path: "/api/v1/machine-groups/:id", permission: perms.edit, tags: ["machine-groups"], summary: "Change a group",
    description: "Static: `machineIds` replaces the members the caller can see (others are kept). Dynamic: `query` replaces the query.",
    params: Id,
    body: Type.Object({
      name: Type.String({ minLength: 1, maxLength: 100 }), description: Type.Optional(Type.String({ maxLength: 500 })), favourite: Type.Optional(Type.Boolean()),
      machineIds: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 50_000 })), query: Type.Optional(Query),
    }),
    response: Group,
    handler: ({ ctx, params, body }) => {
      const viewer = viewerOf(ctx);
      service.update(viewer, params.id, body, ctx.ip);
      return toApi(ctx, service.get(viewer, params.id));
    },
  });

  web.api({
    method: "DELETE", path: "/api/v1/machine-groups/:id", permission: perms.del, tags: ["machine-groups"], summary: "Delete a group (409 while other groups' queries name it)", status: 204,
    params: Id,
    handler: ({ ctx, params }) => service.remove(viewerOf(ctx), params.id, ctx.ip),
  });

  const Member = Type.Object({ id: Type.Integer(), hostname: Type.String(), online: Type.Boolean(), entityId: Type.Integer(), since: Type.String({ format: "date-time" }) });
  web.api({
    method: "GET", path: "/api/v1/machine-groups/:id/members", permission: perms.view, tags: ["machine-groups"], summary: "The group's machines in the caller's entities",
    params: Id, query: Type.Composite([ListQuery, Type.Object({ search: Type.Optional(Type.String({ maxLength: 100 })) })]), response: Page(Member),
    handler: ({ ctx, params, query }) => {
      const page = service.visibleMembers(viewerOf(ctx), params.id, { search: query.search, after: decodeCursor(CursorKey, query.cursor) ?? null, limit: query.limit });
      return { items: page.items.map((m) => ({ id: m.id, hostname: m.hostname, online: m.online === 1, entityId: m.entity_id, since: iso(m.since)! })), next: page.next ? encodeCursor(page.next) : null };
    },
  });

  const Event = Type.Object({ id: Type.Integer(), machineId: Type.Integer(), hostname: Type.Union([Type.String(), Type.Null()]), change: Type.Union([Type.Literal("entered"), Type.Literal("left")]), at: Type.String({ format: "date-time" }) });
  web.api({
    method: "GET", path: "/api/v1/machine-groups/:id/events", permission: perms.view, tags: ["machine-groups"], summary: "Machines that entered or left the group, newest first",
    params: Id, query: Type.Object({ before: Type.Optional(Type.Integer({ minimum: 1, description: "Events older than this event id" })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }),
    response: Type.Object({ items: Type.Array(Event) }),
    handler: ({ ctx, params, query }) => {
      const viewer = viewerOf(ctx);
      const rows = service.events(viewer, params.id, query.before ?? null, query.limit ?? 100);
      // Machines outside the caller's entities (or deleted since) are not named.
      const seen = service.visibleMachines(viewer, rows.map((e) => e.machine_id));
      return { items: rows.map((e) => ({ id: e.id, machineId: e.machine_id, hostname: seen.has(e.machine_id) ? e.hostname : null, change: e.change, at: iso(e.at)! })) };
    },
  });

  web.api({
    method: "POST", path: "/api/v1/machine-groups/preview", permission: perms.edit, tags: ["machine-groups"], summary: "How many machines a query selects now",
    body: Type.Object({ query: Query }),
    response: Type.Object({ count: Type.Integer({ description: "In the caller's entities" }), total: Type.Integer(), sample: Type.Array(Type.String()) }),
    handler: ({ ctx, body }) => service.preview(viewerOf(ctx), body.query),
  });

  web.route({
    method: "POST", path: "/api/v1/machine-groups/:id/actions/:action", permission: perms.view, kind: "api",
    handler: async ({ ctx, params }) => {
      const res = await deps.runAction(ctx, Number(params.id), params.action!);
      if ((res.headers.get("content-type") ?? "").startsWith("text/html")) return json({ status: "started" }, 202);
      return res;
    },
  });

  // The import: multipart (file, name, columns, header, favourite, allowPartial, dryRun).
  web.limitBody("/api/v1/machine-groups/import", TABLE_LIMITS.fileBytes + 64 * 1024);
  web.route({
    method: "POST", path: "/api/v1/machine-groups/import", permission: perms.edit, kind: "api",
    handler: async ({ ctx, body }) => {
      const viewer = viewerOf(ctx);
      const file = body.file;
      if (!(file instanceof Blob) || file.size === 0) throw new Invalid({ file: "mgroups.file.empty" });
      const columns = String(body.columns ?? "").split(",").map((c) => c.trim()) as ColumnKind[];
      if (columns.some((c) => !(COLUMN_KINDS as readonly string[]).includes(c))) throw new Invalid({ columns: "api.field.choice" });
      let table;
      try {
        table = await readTableFile(new Uint8Array(await file.arrayBuffer()));
      } catch (err) {
        if (!(err instanceof TableFileError)) throw err;
        throw new Invalid({ file: `mgroups.file.${err.problem}` as never }, `mgroups.file.${err.problem}` as never);
      }
      const yes = (v: unknown) => v === "true" || v === "1" || v === "on";
      const outcome = matchRows(deps.machinesDb, table, columns, yes(body.header), [...deps.entities.visibleIds(viewer)]);
      const rows = outcome.rows.map((r) => ({ row: r.row, machineId: r.machineId, hostname: r.hostname || null, error: r.reason ? ctx.t(r.reason.key, r.reason.params) : null, duplicateOf: r.duplicateOf }));
      const refused = outcome.bad > 0 && !yes(body.allowPartial);
      if (yes(body.dryRun) || refused) return json({ groupId: null, created: false, matched: outcome.matched.length, bad: outcome.bad, rows }, refused && !yes(body.dryRun) ? 422 : 200);
      const groupId = service.createStatic(viewer, { name: body.name, favourite: yes(body.favourite), machineIds: outcome.matched, origin: "import" }, ctx.ip);
      return json({ groupId, created: true, matched: outcome.matched.length, bad: outcome.bad, rows }, 201);
    },
  });
}
