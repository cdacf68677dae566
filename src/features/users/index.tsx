/**
 * @module users
 * Routes of the users list and form (SPEC U1, U2) and of the per-user ACL editor (U3).
 */
import { Invalid } from "../../errors.ts";
import type { Web } from "../../web/app.tsx";
import type { RequestContext } from "../../web/context.ts";
import { html, redirect } from "../../web/respond.ts";
import { AclEditor } from "../../../views/users/acl.tsx";
import { UserTokens } from "../../../views/users/tokens.tsx";
import type { TokensService } from "../account/tokens.ts";
import { formatForReader } from "../history/time.ts";
import { UserForm, type UserFormValues } from "../../../views/users/form.tsx";
import { UsersPage, UsersTable, type UsersTableProps } from "../../../views/users/list.tsx";
import type { EntitiesService, Viewer } from "../entities/service.ts";
import type { GroupsService } from "../groups/service.ts";
import { aclCategories, mergeKeys } from "./acl.ts";
import type { DirectoryPermissions } from "./permissions.ts";
import type { UserDetail, UserInput, UsersService } from "./service.ts";

export function viewerOf(ctx: RequestContext): Viewer {
  const u = ctx.session!.user;
  return { id: u.id, login: u.login, isSuper: u.isSuper };
}

const str = (v: unknown) => (typeof v === "string" ? v : "");
const strs = (v: unknown) => (Array.isArray(v) ? v.map(String) : v === undefined || v === "" ? [] : [String(v)]);

export function registerUsers(web: Web, deps: { users: UsersService; groups: GroupsService; entities: EntitiesService; perms: DirectoryPermissions; tokens?: TokensService }): void {
  const { users, groups, entities, perms, tokens } = deps;
  const { access, registry } = web.deps;

  registry.menuEntry({ id: "users", section: "menu.section.admin", label: "nav.users", href: "/users", permission: perms.usersView, order: 100 });

  const formProps = (ctx: RequestContext, id: number | null, values: UserFormValues, hasPhoto: boolean) => {
    const viewer = viewerOf(ctx);
    return {
      t: ctx.t, csrf: ctx.session!.csrf, id, values, hasPhoto, canGrantSuper: viewer.isSuper,
      groups: groups.list(viewer, { limit: 500 }).items.map((g) => ({ value: String(g.id), label: g.name })),
      entities: entities.visibleTree(viewer).map((e) => ({ value: String(e.id), label: e.path })),
    };
  };
  const valuesOf = (u: UserDetail): UserFormValues => ({
    login: u.login, firstName: u.first_name, lastName: u.last_name, email: u.email ?? "", phone: u.phone, mobile: u.mobile,
    primaryGroupId: u.primary_group_id ? String(u.primary_group_id) : "", secondaryGroupIds: u.secondaryGroupIds.map(String),
    entityIds: u.entityIds.map(String), isSuper: u.is_super === 1, isPublic: u.is_public === 1, isRecursive: u.is_recursive === 1, hasStatistics: u.has_statistics === 1,
  });
  const valuesFrom = (b: Record<string, unknown>): UserFormValues => ({
    login: str(b.login), firstName: str(b.firstName), lastName: str(b.lastName), email: str(b.email), phone: str(b.phone), mobile: str(b.mobile),
    primaryGroupId: str(b.primaryGroupId), secondaryGroupIds: strs(b.secondaryGroupIds), entityIds: strs(b.entityIds),
    isSuper: b.isSuper === "on", isPublic: b.isPublic === "on", isRecursive: b.isRecursive === "on", hasStatistics: b.hasStatistics === "on",
  });
  const emptyValues: UserFormValues = valuesFrom({});

  web.route({
    method: "GET", path: "/users", permission: perms.usersView, kind: "page",
    handler: async ({ ctx, query }) => {
      const viewer = viewerOf(ctx);
      const search = str(query.q).slice(0, 100);
      const after = Number(query.after) || 0;
      const page = users.list(viewer, { search, after });
      const props: UsersTableProps = {
        t: ctx.t, search, next: page.next, selfId: viewer.id,
        canEdit: access.can(viewer, perms.usersEdit), canDelete: access.can(viewer, perms.usersDelete), canAcl: access.can(viewer, perms.usersAcl),
        rows: page.items.map((u) => ({ id: u.id, login: u.login, fullName: `${u.first_name} ${u.last_name}`.trim(), email: u.email ?? "", phone: u.phone || u.mobile, isSuper: u.is_super === 1 })),
      };
      if (ctx.isHtmx) return html(await <UsersTable {...props} />);
      const notice = query.created ? ctx.t("users.created", { login: str(query.created) }) : query.saved ? ctx.t("users.saved", { login: str(query.saved) }) : undefined;
      return web.page(ctx, { title: ctx.t("users.title"), current: "/users", body: <UsersPage {...props} notice={notice} /> });
    },
  });

  web.route({
    method: "GET", path: "/users/new", permission: perms.usersEdit, kind: "page",
    handler: ({ ctx }) => web.page(ctx, { title: ctx.t("users.add"), current: "/users", body: <UserForm {...formProps(ctx, null, emptyValues, false)} /> }),
  });

  const saveForm = async (ctx: RequestContext, id: number | null, body: Record<string, unknown>, hasPhoto: boolean) => {
    try {
      if (id === null) await users.create(viewerOf(ctx), body as UserInput, ctx.ip);
      else await users.update(viewerOf(ctx), id, body as UserInput, ctx.ip);
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      const form = <UserForm {...formProps(ctx, id, valuesFrom(body), hasPhoto)} errors={err.fields} />;
      return web.page(ctx, { title: ctx.t("users.title"), current: "/users", body: form, status: 422 });
    }
    return redirect(ctx, `/users?${id === null ? "created" : "saved"}=${encodeURIComponent(str(body.login).trim())}`);
  };

  web.route({
    method: "POST", path: "/users", permission: perms.usersEdit, kind: "action",
    handler: ({ ctx, body }) => saveForm(ctx, null, body, false),
  });

  web.route({
    method: "GET", path: "/users/:id/edit", permission: perms.usersEdit, kind: "page",
    handler: ({ ctx, params }) => {
      const viewer = viewerOf(ctx);
      const u = users.get(viewer, Number(params.id));
      const form = <UserForm {...formProps(ctx, u.id, valuesOf(u), u.has_photo === 1)} />;
      // Super-administrators see (and may revoke) the user's API tokens beside its form.
      if (!viewer.isSuper || !tokens) return web.page(ctx, { title: ctx.t("users.edit", { login: u.login }), current: "/users", body: form });
      const tz = web.deps.timeZone ?? "UTC";
      const at = (ms: number | null) => (ms ? formatForReader(ms, tz, ctx.lang) : ctx.t("users.tokens.never"));
      const list = tokens.list(u.id, 200).map((r) => tokens.info(r)).map((i) => ({ id: i.id, name: i.name, created: at(i.createdAt), expires: at(i.expiresAt), lastUsed: at(i.lastUsedAt), ip: i.sourceIp }));
      return web.page(ctx, {
        title: ctx.t("users.edit", { login: u.login }), current: "/users",
        body: (
          <div class="stack">
            {form}
            <UserTokens t={ctx.t} csrf={ctx.session!.csrf} userId={u.id} tokens={list} />
          </div>
        ),
      });
    },
  });

  web.route({
    method: "POST", path: "/users/:id", permission: perms.usersEdit, kind: "action",
    handler: ({ ctx, params, body }) => {
      const u = users.get(viewerOf(ctx), Number(params.id));
      return saveForm(ctx, u.id, body, u.has_photo === 1);
    },
  });

  web.route({
    method: "DELETE", path: "/users/:id", permission: perms.usersDelete, kind: "action",
    handler: ({ ctx, params }) => {
      users.remove(viewerOf(ctx), Number(params.id), ctx.ip);
      return ctx.isHtmx ? html("") : redirect(ctx, "/users");
    },
  });

  web.route({
    method: "GET", path: "/users/:id/photo", permission: perms.usersView, kind: "asset",
    handler: ({ ctx, params }) => {
      const photo = users.photo(viewerOf(ctx), Number(params.id));
      if (!photo) return new Response(null, { status: 404 });
      return new Response(photo.photo as Uint8Array<ArrayBuffer>, {
        headers: { "content-type": photo.photo_type, "content-security-policy": "default-src 'none'", "cache-control": "private, max-age=300" },
      });
    },
  });

  web.route({
    method: "POST", path: "/users/:id/tokens/:tokenId/revoke", permission: perms.usersEdit, kind: "action",
    handler: ({ ctx, params }) => {
      const u = users.get(viewerOf(ctx), Number(params.id));
      if (!tokens) throw new Invalid({ tokenId: "error.invalid" });
      tokens.revoke(ctx.session!.user, Number(params.tokenId), ctx.ip);
      return redirect(ctx, `/users/${u.id}/edit`);
    },
  });

  const aclPage = (ctx: RequestContext, id: number, extra: { notice?: string; error?: string; status?: number } = {}) => {
    const viewer = viewerOf(ctx);
    const r = users.rights(viewer, id);
    return web.page(ctx, {
      title: ctx.t("acl.title", { login: r.user.login }), current: "/users", status: extra.status,
      body: (
        <AclEditor
          t={ctx.t} csrf={ctx.session!.csrf} title={ctx.t("acl.title", { login: r.user.login })} action={`/users/${id}/acl`} back="/users"
          isSuper={r.user.is_super === 1} notice={extra.notice} error={extra.error}
          categories={aclCategories(ctx.t, registry, access, viewer, r.own, r.inherited)}
        />
      ),
    });
  };

  web.route({
    method: "GET", path: "/users/:id/acl", permission: perms.usersAcl, kind: "page",
    handler: ({ ctx, params, query }) => aclPage(ctx, Number(params.id), { notice: query.saved ? ctx.t("acl.saved") : undefined }),
  });

  web.route({
    method: "POST", path: "/users/:id/acl", permission: perms.usersAcl, kind: "action",
    handler: ({ ctx, params, body }) => {
      const viewer = viewerOf(ctx);
      const id = Number(params.id);
      const current = users.rights(viewer, id).own;
      try {
        users.setRights(viewer, id, mergeKeys(registry, access, viewer, current, body.keys), ctx.ip);
      } catch (err) {
        if (!(err instanceof Invalid)) throw err;
        return aclPage(ctx, id, { error: ctx.t(err.fields?.keys ?? "error.invalid"), status: 422 });
      }
      return redirect(ctx, `/users/${id}/acl?saved=1`);
    },
  });
}
