/**
 * @module users/api
 * `/api/v1/users` (DESIGN.md "JSON API"; SPEC U1-U3): list, read, create, change, delete
 * users, and read or replace a user's own keys. The same keys guard these routes as the
 * pages, and the same service does every check (visibility through entities, who may
 * make a super-administrator, the last super-administrator, history); the ACL goes
 * through `mergeKeys`, so an editor only grants keys it holds. A PATCH keeps what it does
 * not send: the current user is read and the sent fields laid over it.
 */
import { Type, type Static } from "@sinclair/typebox";
import { decodeCursor, encodeCursor, ListQuery, Page } from "../../web/api.ts";
import type { Web } from "../../web/app.tsx";
import type { EntitiesService } from "../entities/service.ts";
import { mergeKeys } from "./acl.ts";
import { viewerOf } from "./index.tsx";
import type { DirectoryPermissions } from "./permissions.ts";
import type { UserListRow } from "./repo.ts";
import type { UserDetail, UserInput, UsersService } from "./service.ts";

const Id = Type.Integer({ minimum: 1 });
const IdParams = Type.Object({ id: Id });
const Ids = (description: string) => Type.Array(Id, { maxItems: 1000, description });

export const UserItem = Type.Object({
  id: Type.Integer(),
  login: Type.String(),
  firstName: Type.String(),
  lastName: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  phone: Type.String(),
  mobile: Type.String(),
  isSuper: Type.Boolean(),
  disabled: Type.Boolean(),
  hasPhoto: Type.Boolean({ description: "The photo itself is at /users/{id}/photo (pages)" }),
});

export const UserDetailSchema = Type.Composite([
  UserItem,
  Type.Object({
    primaryGroupId: Type.Union([Type.Integer(), Type.Null()]),
    secondaryGroupIds: Type.Array(Type.Integer()),
    entityIds: Type.Array(Type.Integer(), { description: "Entities granted to the user (its entity rights)" }),
    isPublic: Type.Boolean(),
    isRecursive: Type.Boolean({ description: "The granted entities include their sub-entities" }),
    hasStatistics: Type.Boolean(),
    lang: Type.Union([Type.Literal("fr"), Type.Literal("en")]),
    totpEnabled: Type.Boolean(),
  }),
]);

/** The fields of the user form (SPEC U2). A PATCH sends any of them; a POST needs login and password. */
export const UserPatch = Type.Object(
  {
    login: Type.Optional(Type.String({ maxLength: 64, description: "Unique whatever the case: letters, digits and . _ @ -" })),
    password: Type.Optional(Type.String({ maxLength: 1024, description: "At least 10 characters, letters and a digit or symbol" })),
    confirm: Type.Optional(Type.String({ maxLength: 1024, description: "When sent, must equal password" })),
    email: Type.Optional(Type.String({ maxLength: 320, description: "Empty to clear" })),
    firstName: Type.Optional(Type.String({ maxLength: 100 })),
    lastName: Type.Optional(Type.String({ maxLength: 100 })),
    phone: Type.Optional(Type.String({ maxLength: 32 })),
    mobile: Type.Optional(Type.String({ maxLength: 32 })),
    primaryGroupId: Type.Optional(Type.Union([Id, Type.Null()], { description: "null: no primary group" })),
    secondaryGroupIds: Type.Optional(Ids("Other groups")),
    entityIds: Type.Optional(Ids("Entities granted: only entities the caller sees; those it does not see are kept")),
    isSuper: Type.Optional(Type.Boolean({ description: "Only a super-administrator grants, changes or keeps it" })),
    isPublic: Type.Optional(Type.Boolean()),
    isRecursive: Type.Optional(Type.Boolean({ description: "The granted entities include their sub-entities" })),
    hasStatistics: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const UserCreate = Type.Object(
  {
    ...Type.Omit(UserPatch, ["login", "password"]).properties,
    login: Type.String({ minLength: 1, maxLength: 64, description: "Unique whatever the case: letters, digits and . _ @ -" }),
    password: Type.String({ minLength: 1, maxLength: 1024, description: "At least 10 characters, letters and a digit or symbol" }),
  },
  { additionalProperties: false },
);

export const Rights = Type.Object({
  keys: Type.Array(Type.String(), { description: "The user's own keys" }),
  inherited: Type.Array(Type.Object({ key: Type.String(), group: Type.String() }), { description: "Keys its groups give it" }),
});

export const RightsBody = Type.Object(
  { keys: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 1000, description: "The whole new set; keys the caller does not hold keep their current state" }) },
  { additionalProperties: false },
);

const UserCursor = Type.Object({ id: Type.Integer() });

export function toUserItem(u: UserListRow): Static<typeof UserItem> {
  return {
    id: u.id, login: u.login, firstName: u.first_name, lastName: u.last_name, email: u.email, phone: u.phone, mobile: u.mobile,
    isSuper: u.is_super === 1, disabled: u.disabled === 1, hasPhoto: u.has_photo === 1,
  };
}

function toUserDetail(u: UserDetail): Static<typeof UserDetailSchema> {
  return {
    ...toUserItem(u),
    primaryGroupId: u.primary_group_id, secondaryGroupIds: u.secondaryGroupIds, entityIds: u.entityIds,
    isPublic: u.is_public === 1, isRecursive: u.is_recursive === 1, hasStatistics: u.has_statistics === 1, lang: u.lang, totpEnabled: u.totp_enabled === 1,
  };
}

/** The service's input from an API body: booleans and lists as typed; `confirm` defaults to the password. */
function toInput(body: Partial<Static<typeof UserPatch>>): UserInput {
  const { primaryGroupId, confirm, ...rest } = body;
  return { ...rest, primaryGroupId: primaryGroupId ?? undefined, confirm: confirm ?? body.password };
}

export function registerUsersApi(web: Web, deps: { users: UsersService; entities: EntitiesService; perms: DirectoryPermissions }): void {
  const { users, entities, perms } = deps;
  const { access, registry } = web.deps;
  const rightsOf = (r: ReturnType<UsersService["rights"]>) => ({ keys: r.own, inherited: r.inherited.map((i) => ({ key: i.key, group: i.name })) });

  web.api({
    method: "GET", path: "/api/v1/users", permission: perms.usersView, tags: ["users"],
    summary: "List the users the caller sees, by id",
    description: "`search` matches login, names, e-mail and phone numbers. A user is seen when it shares an entity with the caller (a super-administrator sees all).",
    query: Type.Composite([ListQuery, Type.Object({ search: Type.Optional(Type.String({ maxLength: 100 })) })]),
    response: Page(UserItem),
    handler: ({ ctx, query }) => {
      const limit = query.limit ?? 50;
      const after = decodeCursor(UserCursor, query.cursor);
      const page = users.list(viewerOf(ctx), { search: query.search, after: after?.id, limit });
      // The service reads one row more itself: `next` is the id the following page starts after.
      return { items: page.items.map(toUserItem), next: page.next === null ? null : encodeCursor({ id: page.next }) };
    },
  });

  web.api({
    method: "GET", path: "/api/v1/users/:id", permission: perms.usersView, tags: ["users"],
    summary: "One user, with its groups, entities and flags",
    params: IdParams,
    response: UserDetailSchema,
    handler: ({ ctx, params }) => toUserDetail(users.get(viewerOf(ctx), params.id)),
  });

  web.api({
    method: "POST", path: "/api/v1/users", permission: perms.usersEdit, status: 201, tags: ["users"],
    summary: "Create a user",
    description: "Validation as in the user form (422 with `fields`): unique login and e-mail, strong password, existing groups, entities the caller sees; `isSuper` only from a super-administrator.",
    body: UserCreate,
    response: UserDetailSchema,
    handler: async ({ ctx, body }) => {
      const viewer = viewerOf(ctx);
      const id = await users.create(viewer, toInput(body), ctx.ip);
      return toUserDetail(users.get(viewer, id));
    },
  });

  web.api({
    method: "PATCH", path: "/api/v1/users/:id", permission: perms.usersEdit, tags: ["users"],
    summary: "Change a user: fields not sent keep their value",
    description: "`password` changes the password (the user must change it at next sign-in unless it is the caller). Entities the caller does not see are kept whatever `entityIds` says.",
    params: IdParams,
    body: UserPatch,
    response: UserDetailSchema,
    handler: async ({ ctx, params, body }) => {
      const viewer = viewerOf(ctx);
      const u = users.get(viewer, params.id);
      const visible = entities.visibleIds(viewer);
      const current: Static<typeof UserPatch> = {
        login: u.login, email: u.email ?? "", firstName: u.first_name, lastName: u.last_name, phone: u.phone, mobile: u.mobile,
        primaryGroupId: u.primary_group_id, secondaryGroupIds: u.secondaryGroupIds,
        // Entities the caller does not see are kept by the service, and may not be asked for.
        entityIds: u.entityIds.filter((e) => visible.has(e)),
        isSuper: u.is_super === 1, isPublic: u.is_public === 1, isRecursive: u.is_recursive === 1, hasStatistics: u.has_statistics === 1,
      };
      await users.update(viewer, u.id, toInput({ ...current, ...body }), ctx.ip);
      return toUserDetail(users.get(viewer, u.id));
    },
  });

  web.api({
    method: "DELETE", path: "/api/v1/users/:id", permission: perms.usersDelete, status: 204, tags: ["users"],
    summary: "Delete a user",
    description: "409 for oneself and for the last super-administrator.",
    params: IdParams,
    handler: ({ ctx, params }) => {
      users.remove(viewerOf(ctx), params.id, ctx.ip);
    },
  });

  web.api({
    method: "GET", path: "/api/v1/users/:id/rights", permission: perms.usersAcl, tags: ["users"],
    summary: "A user's own keys, and those its groups give it",
    params: IdParams,
    response: Rights,
    handler: ({ ctx, params }) => rightsOf(users.rights(viewerOf(ctx), params.id)),
  });

  web.api({
    method: "PUT", path: "/api/v1/users/:id/rights", permission: perms.usersAcl, tags: ["users"],
    summary: "Replace a user's own keys",
    description: "The caller grants or removes only keys it holds itself (422 on `keys` otherwise); keys it does not hold keep their current state. Keys are those of the ACL editor (see the registry).",
    params: IdParams,
    body: RightsBody,
    response: Rights,
    handler: ({ ctx, params, body }) => {
      const viewer = viewerOf(ctx);
      const current = users.rights(viewer, params.id).own;
      users.setRights(viewer, params.id, mergeKeys(registry, access, viewer, current, body.keys), ctx.ip);
      return rightsOf(users.rights(viewer, params.id));
    },
  });
}
