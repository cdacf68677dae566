/**
 * @module entities/api
 * `/api/v1/entities` (DESIGN.md "JSON API"; SPEC U5): the entity tree the caller sees,
 * in display order (depth first, siblings by name) with each entity's parent, depth and
 * path; add, rename and/or move, delete (409 while anything belongs to it, and for Root).
 */
import { Type, type Static } from "@sinclair/typebox";
import { Invalid } from "../../errors.ts";
import { decodeCursor, encodeCursor, ListQuery, Page } from "../../web/api.ts";
import type { Web } from "../../web/app.tsx";
import type { RequestContext } from "../../web/context.ts";
import { viewerOf } from "../users/index.tsx";
import type { DirectoryPermissions } from "../users/permissions.ts";
import type { EntitiesService, EntityNode } from "./service.ts";

const Id = Type.Integer({ minimum: 1 });
const IdParams = Type.Object({ id: Id });

export const Entity = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  parentId: Type.Union([Type.Integer(), Type.Null()], { description: "null for Root" }),
  depth: Type.Integer({ description: "0 for Root" }),
  path: Type.String({ description: "Names from Root, joined with ' › '" }),
});

export const EntityDetail = Type.Composite([
  Entity,
  Type.Object({
    usage: Type.Array(Type.Object({ kind: Type.String({ description: "children, users, groups, ..." }), label: Type.String(), count: Type.Integer() }), {
      description: "What belongs to the entity (it can be deleted only when empty)",
    }),
  }),
]);

const name = Type.String({ minLength: 1, maxLength: 100 });
export const EntityCreate = Type.Object({ name, parentId: Type.Integer({ minimum: 1, description: "Root is 1" }) }, { additionalProperties: false });
export const EntityPatch = Type.Object(
  { name: Type.Optional(name), parentId: Type.Optional(Type.Integer({ minimum: 1, description: "Moves the entity (with its sub-entities)" })) },
  { additionalProperties: false },
);

const EntityCursor = Type.Object({ id: Type.Integer() });

const toEntity = (n: EntityNode): Static<typeof Entity> => ({ id: n.id, name: n.name, parentId: n.parentId, depth: n.depth, path: n.path });

export function registerEntitiesApi(web: Web, deps: { entities: EntitiesService; perms: DirectoryPermissions }): void {
  const { entities, perms } = deps;

  const detail = (ctx: RequestContext, id: number): Static<typeof EntityDetail> => {
    entities.get(viewerOf(ctx), id);
    const node = entities.tree().find((n) => n.id === id)!;
    const usage = entities.usage(id).map((u) => ({ kind: u.label.split(".").at(-1)!, label: ctx.t(u.label), count: u.count }));
    return { ...toEntity(node), usage };
  };

  web.api({
    method: "GET", path: "/api/v1/entities", permission: perms.entitiesView, tags: ["entities"],
    summary: "List the entities the caller sees, in tree order",
    description: "Depth first, siblings by name. `search` keeps the entities whose name contains it (paths still show the whole ancestry).",
    query: Type.Composite([ListQuery, Type.Object({ search: Type.Optional(Type.String({ maxLength: 100 })) })]),
    response: Page(Entity),
    handler: ({ ctx, query }) => {
      const limit = query.limit ?? 50;
      const search = (query.search ?? "").trim().toLocaleLowerCase();
      const nodes = entities.visibleTree(viewerOf(ctx)).filter((n) => !search || n.name.toLocaleLowerCase().includes(search));
      // The tree is small and its order is not a column: the cursor is the last entity sent.
      const after = decodeCursor(EntityCursor, query.cursor);
      let start = 0;
      if (after) {
        start = nodes.findIndex((n) => n.id === after.id) + 1;
        if (start === 0) throw new Invalid({ cursor: "api.cursor.invalid" });
      }
      const page = nodes.slice(start, start + limit);
      const more = start + limit < nodes.length;
      return { items: page.map(toEntity), next: more ? encodeCursor({ id: page.at(-1)!.id }) : null };
    },
  });

  web.api({
    method: "GET", path: "/api/v1/entities/:id", permission: perms.entitiesView, tags: ["entities"],
    summary: "One entity, with what belongs to it",
    params: IdParams,
    response: EntityDetail,
    handler: ({ ctx, params }) => detail(ctx, params.id),
  });

  web.api({
    method: "POST", path: "/api/v1/entities", permission: perms.entitiesEdit, status: 201, tags: ["entities"],
    summary: "Add an entity under another",
    description: "422 when the parent is not one the caller sees, or a sibling has the same name (whatever the case).",
    body: EntityCreate,
    response: EntityDetail,
    handler: ({ ctx, body }) => detail(ctx, entities.create(viewerOf(ctx), body, ctx.ip)),
  });

  web.api({
    method: "PATCH", path: "/api/v1/entities/:id", permission: perms.entitiesEdit, tags: ["entities"],
    summary: "Rename and/or move an entity",
    description: "Both or neither: a refused move leaves the name unchanged too. Moving under itself or a sub-entity is a 422 on `parentId`; Root cannot move (409).",
    params: IdParams,
    body: EntityPatch,
    response: EntityDetail,
    handler: ({ ctx, params, body }) => {
      const viewer = viewerOf(ctx);
      const current = entities.get(viewer, params.id);
      entities.update(viewer, current.id, { name: body.name ?? current.name, parentId: body.parentId }, ctx.ip);
      return detail(ctx, current.id);
    },
  });

  web.api({
    method: "DELETE", path: "/api/v1/entities/:id", permission: perms.entitiesDelete, status: 204, tags: ["entities"],
    summary: "Delete an entity",
    description: "409 while anything belongs to it (sub-entities, users' rights, groups, machines, ...) and for Root.",
    params: IdParams,
    handler: ({ ctx, params }) => {
      entities.remove(viewerOf(ctx), params.id, ctx.ip);
    },
  });
}
