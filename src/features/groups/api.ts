/**
 * @module groups/api
 * `/api/v1/groups` (DESIGN.md "JSON API"; SPEC U4): user groups, their members and their
 * keys, behind the same keys as the pages. The service checks the naming rule, the
 * entity the caller sees and records every change; the keys go through `mergeKeys`.
 */
import { Type, type Static } from "@sinclair/typebox";
import { Invalid, NotFound } from "../../errors.ts";
import { decodeCursor, encodeCursor, ListQuery, Page } from "../../web/api.ts";
import type { Web } from "../../web/app.tsx";
import { json } from "../../web/respond.ts";
import { mergeKeys } from "../users/acl.ts";
import { viewerOf } from "../users/index.tsx";
import type { DirectoryPermissions } from "../users/permissions.ts";
import type { UsersService } from "../users/service.ts";
import type { GroupRow } from "./repo.ts";
import type { GroupsService } from "./service.ts";

const Id = Type.Integer({ minimum: 1 });
const IdParams = Type.Object({ id: Id });

export const Group = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  description: Type.String(),
  entityId: Type.Integer(),
  members: Type.Integer({ description: "Members, primary or secondary" }),
});

const groupFields = {
  name: Type.String({ maxLength: 64, description: "Starts with a letter; only lowercase letters and digits" }),
  description: Type.String({ maxLength: 500 }),
  entityId: Type.Integer({ minimum: 1, description: "The entity the group belongs to (Root by default); one the caller sees" }),
};

export const GroupCreate = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 64, description: groupFields.name.description }), description: Type.Optional(groupFields.description), entityId: Type.Optional(groupFields.entityId) },
  { additionalProperties: false },
);

export const GroupPatch = Type.Object(
  { name: Type.Optional(groupFields.name), description: Type.Optional(groupFields.description), entityId: Type.Optional(groupFields.entityId) },
  { additionalProperties: false },
);

export const Member = Type.Object({
  id: Type.Integer(),
  login: Type.String(),
  firstName: Type.String(),
  lastName: Type.String(),
  isPrimary: Type.Boolean({ description: "The group is the user's primary group" }),
});

const GroupRights = Type.Object({ keys: Type.Array(Type.String()) });
const RightsBody = Type.Object(
  { keys: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 1000, description: "The whole new set; keys the caller does not hold keep their current state" }) },
  { additionalProperties: false },
);

const GroupCursor = Type.Object({ name: Type.String() });

type MemberRow = ReturnType<GroupsService["members"]>[number];
const toMember = (m: MemberRow): Static<typeof Member> => ({ id: m.id, login: m.login, firstName: m.first_name, lastName: m.last_name, isPrimary: m.is_primary === 1 });
const toGroup = (g: GroupRow): Static<typeof Group> => ({ id: g.id, name: g.name, description: g.description, entityId: g.entity_id, members: g.members });

export function registerGroupsApi(web: Web, deps: { groups: GroupsService; users: UsersService; perms: DirectoryPermissions }): void {
  const { groups, users, perms } = deps;
  const { access, registry } = web.deps;

  /** A group with its member count (the service's `get` does not count). */
  const groupOf = (viewer: ReturnType<typeof viewerOf>, id: number) => {
    const g = groups.get(viewer, id);
    return toGroup({ ...g, members: groups.members(viewer, id).length });
  };

  web.api({
    method: "GET", path: "/api/v1/groups", permission: perms.groupsView, tags: ["groups"],
    summary: "List the user groups the caller sees, by name",
    description: "`search` matches name and description. A group is seen when its entity is.",
    query: Type.Composite([ListQuery, Type.Object({ search: Type.Optional(Type.String({ maxLength: 100 })) })]),
    response: Page(Group),
    handler: ({ ctx, query }) => {
      const after = decodeCursor(GroupCursor, query.cursor);
      const page = groups.list(viewerOf(ctx), { search: query.search, after: after?.name, limit: query.limit ?? 50 });
      return { items: page.items.map(toGroup), next: page.next === null ? null : encodeCursor({ name: page.next }) };
    },
  });

  web.api({
    method: "GET", path: "/api/v1/groups/:id", permission: perms.groupsView, tags: ["groups"],
    summary: "One user group",
    params: IdParams,
    response: Group,
    handler: ({ ctx, params }) => groupOf(viewerOf(ctx), params.id),
  });

  web.api({
    method: "POST", path: "/api/v1/groups", permission: perms.groupsEdit, status: 201, tags: ["groups"],
    summary: "Create a user group",
    description: "422 when the name breaks the rule or is taken, or the entity is not one the caller sees.",
    body: GroupCreate,
    response: Group,
    handler: ({ ctx, body }) => {
      const viewer = viewerOf(ctx);
      const id = groups.create(viewer, { name: body.name, description: body.description ?? "", entityId: body.entityId }, ctx.ip);
      return groupOf(viewer, id);
    },
  });

  web.api({
    method: "PATCH", path: "/api/v1/groups/:id", permission: perms.groupsEdit, tags: ["groups"],
    summary: "Change a user group: fields not sent keep their value",
    params: IdParams,
    body: GroupPatch,
    response: Group,
    handler: ({ ctx, params, body }) => {
      const viewer = viewerOf(ctx);
      const g = groups.get(viewer, params.id);
      groups.update(viewer, g.id, { name: body.name ?? g.name, description: body.description ?? g.description, entityId: body.entityId ?? g.entity_id }, ctx.ip);
      return groupOf(viewer, g.id);
    },
  });

  web.api({
    method: "DELETE", path: "/api/v1/groups/:id", permission: perms.groupsDelete, status: 204, tags: ["groups"],
    summary: "Delete a user group",
    description: "Its members lose the keys it gave them; users whose primary group it was keep no primary group.",
    params: IdParams,
    handler: ({ ctx, params }) => {
      groups.remove(viewerOf(ctx), params.id, ctx.ip);
    },
  });

  web.api({
    method: "GET", path: "/api/v1/groups/:id/members", permission: perms.groupsView, tags: ["groups"],
    summary: "A group's members (primary and secondary), by login",
    params: IdParams,
    response: Page(Member),
    handler: ({ ctx, params }) => ({ items: groups.members(viewerOf(ctx), params.id).map(toMember), next: null }),
  });

  web.api({
    method: "POST", path: "/api/v1/groups/:id/members", permission: perms.groupsEdit, status: 201, tags: ["groups"],
    summary: "Add a user to a group (as a secondary group)",
    description: "201 with the member; 200 when it already was one (nothing changes). 422 on `userId` for a user the caller does not see.",
    params: IdParams,
    body: Type.Object({ userId: Id }, { additionalProperties: false }),
    response: Member,
    handler: ({ ctx, params, body }) => {
      const viewer = viewerOf(ctx);
      const before = groups.members(viewer, params.id);
      let user;
      try {
        user = users.get(viewer, body.userId);
      } catch {
        throw new Invalid({ userId: "groups.error.user" });
      }
      const already = before.find((m) => m.id === user.id);
      if (already) return json(toMember(already));
      groups.addMember(viewer, params.id, user.id, ctx.ip, user.login);
      return toMember(groups.members(viewer, params.id).find((m) => m.id === user.id)!);
    },
  });

  web.api({
    method: "DELETE", path: "/api/v1/groups/:id/members/:userId", permission: perms.groupsEdit, status: 204, tags: ["groups"],
    summary: "Remove a user from a group",
    description: "Also clears the user's primary group when it was this one. 404 when the user is not a member.",
    params: Type.Object({ id: Id, userId: Id }),
    handler: ({ ctx, params }) => {
      const viewer = viewerOf(ctx);
      const members = groups.members(viewer, params.id);
      const user = users.get(viewer, params.userId);
      if (!members.some((m) => m.id === user.id)) throw new NotFound();
      groups.removeMember(viewer, params.id, user.id, ctx.ip, user.login);
    },
  });

  web.api({
    method: "GET", path: "/api/v1/groups/:id/rights", permission: perms.groupsAcl, tags: ["groups"],
    summary: "The keys a group gives its members",
    params: IdParams,
    response: GroupRights,
    handler: ({ ctx, params }) => ({ keys: groups.grants(viewerOf(ctx), params.id) }),
  });

  web.api({
    method: "PUT", path: "/api/v1/groups/:id/rights", permission: perms.groupsAcl, tags: ["groups"],
    summary: "Replace the keys a group gives its members",
    description: "The caller grants or removes only keys it holds itself (422 on `keys` otherwise); keys it does not hold keep their current state.",
    params: IdParams,
    body: RightsBody,
    response: GroupRights,
    handler: ({ ctx, params, body }) => {
      const viewer = viewerOf(ctx);
      groups.setGrants(viewer, params.id, mergeKeys(registry, access, viewer, groups.grants(viewer, params.id), body.keys), ctx.ip);
      return { keys: groups.grants(viewer, params.id) };
    },
  });
}
