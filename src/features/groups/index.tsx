/**
 * @module groups
 * Routes of user groups (SPEC U4): list, add, edit, delete, members and the group's ACL.
 */
import { Invalid } from "../../errors.ts";
import type { Web } from "../../web/app.tsx";
import type { RequestContext } from "../../web/context.ts";
import { html, redirect } from "../../web/respond.ts";
import { GroupForm, GroupMembers, GroupsPage, GroupsTable, type GroupsTableProps } from "../../../views/groups/groups.tsx";
import { AclEditor } from "../../../views/users/acl.tsx";
import type { EntitiesService } from "../entities/service.ts";
import { aclCategories, mergeKeys } from "../users/acl.ts";
import { viewerOf } from "../users/index.tsx";
import type { DirectoryPermissions } from "../users/permissions.ts";
import type { UsersService } from "../users/service.ts";
import type { GroupsService } from "./service.ts";

const str = (v: unknown) => (typeof v === "string" ? v : "");

export function registerGroups(web: Web, deps: { groups: GroupsService; users: UsersService; entities: EntitiesService; perms: DirectoryPermissions }): void {
  const { groups, users, entities, perms } = deps;
  const { access, registry } = web.deps;

  registry.menuEntry({ id: "groups", section: "menu.section.admin", label: "nav.groups", href: "/groups", permission: perms.groupsView, order: 110 });

  const entityOptions = (ctx: RequestContext) => entities.visibleTree(viewerOf(ctx)).map((e) => ({ value: String(e.id), label: e.path }));

  const membersFragment = (ctx: RequestContext, id: number, error?: string) => {
    const viewer = viewerOf(ctx);
    const members = groups.members(viewer, id);
    const inGroup = new Set(members.map((m) => m.id));
    const candidates = users.list(viewer, { limit: 500 }).items.filter((u) => !inGroup.has(u.id)).map((u) => ({ value: String(u.id), label: u.login }));
    return (
      <GroupMembers
        t={ctx.t} groupId={id} error={error} candidates={candidates} canEdit={access.can(viewer, perms.groupsEdit)}
        members={members.map((m) => ({ id: m.id, login: m.login, name: `${m.first_name} ${m.last_name}`.trim(), isPrimary: m.is_primary === 1 }))}
      />
    );
  };

  web.route({
    method: "GET", path: "/groups", permission: perms.groupsView, kind: "page",
    handler: async ({ ctx, query }) => {
      const viewer = viewerOf(ctx);
      const search = str(query.q).slice(0, 100);
      const page = groups.list(viewer, { search, after: str(query.after) });
      const props: GroupsTableProps = {
        t: ctx.t, search, next: page.next,
        canEdit: access.can(viewer, perms.groupsEdit), canDelete: access.can(viewer, perms.groupsDelete), canAcl: access.can(viewer, perms.groupsAcl),
        rows: page.items.map((g) => ({ id: g.id, name: g.name, description: g.description, members: g.members })),
      };
      if (ctx.isHtmx) return html(await <GroupsTable {...props} />);
      const notice = query.created ? ctx.t("groups.created") : query.saved ? ctx.t("groups.saved") : undefined;
      return web.page(ctx, { title: ctx.t("groups.title"), current: "/groups", body: <GroupsPage {...props} notice={notice} /> });
    },
  });

  web.route({
    method: "GET", path: "/groups/new", permission: perms.groupsEdit, kind: "page",
    handler: ({ ctx }) =>
      web.page(ctx, { title: ctx.t("groups.add"), current: "/groups", body: <GroupForm t={ctx.t} csrf={ctx.session!.csrf} id={null} values={{ name: "", description: "", entityId: "1" }} entities={entityOptions(ctx)} /> }),
  });

  const save = (ctx: RequestContext, id: number | null, body: Record<string, unknown>) => {
    const input = { name: body.name, description: body.description, entityId: body.entityId };
    try {
      if (id === null) groups.create(viewerOf(ctx), input, ctx.ip);
      else groups.update(viewerOf(ctx), id, input, ctx.ip);
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      const values = { name: str(body.name), description: str(body.description), entityId: str(body.entityId) };
      return web.page(ctx, { title: ctx.t("groups.title"), current: "/groups", status: 422, body: <GroupForm t={ctx.t} csrf={ctx.session!.csrf} id={id} values={values} entities={entityOptions(ctx)} errors={err.fields} /> });
    }
    return redirect(ctx, id === null ? "/groups?created=1" : "/groups?saved=1");
  };

  web.route({ method: "POST", path: "/groups", permission: perms.groupsEdit, kind: "action", handler: ({ ctx, body }) => save(ctx, null, body) });

  web.route({
    method: "GET", path: "/groups/:id", permission: perms.groupsView, kind: "page",
    handler: ({ ctx, params }) => {
      const viewer = viewerOf(ctx);
      const g = groups.get(viewer, Number(params.id));
      const canEdit = access.can(viewer, perms.groupsEdit);
      return web.page(ctx, {
        title: g.name, current: "/groups",
        body: (
          <div class="stack">
            <GroupForm t={ctx.t} csrf={ctx.session!.csrf} id={g.id} values={{ name: g.name, description: g.description, entityId: String(g.entity_id) }} entities={entityOptions(ctx)} readonly={!canEdit} />
            {membersFragment(ctx, g.id)}
          </div>
        ),
      });
    },
  });

  web.route({ method: "POST", path: "/groups/:id", permission: perms.groupsEdit, kind: "action", handler: ({ ctx, params, body }) => save(ctx, Number(params.id), body) });

  web.route({
    method: "DELETE", path: "/groups/:id", permission: perms.groupsDelete, kind: "action",
    handler: ({ ctx, params }) => {
      groups.remove(viewerOf(ctx), Number(params.id), ctx.ip);
      return ctx.isHtmx ? html("") : redirect(ctx, "/groups");
    },
  });

  web.route({
    method: "POST", path: "/groups/:id/members", permission: perms.groupsEdit, kind: "fragment",
    handler: async ({ ctx, params, body }) => {
      const viewer = viewerOf(ctx);
      const id = Number(params.id);
      const userId = Number(body.userId);
      let user;
      try {
        user = users.get(viewer, userId);
      } catch {
        return html(await membersFragment(ctx, id, ctx.t("groups.error.user")), 422);
      }
      groups.addMember(viewer, id, user.id, ctx.ip, user.login);
      return html(await membersFragment(ctx, id));
    },
  });

  web.route({
    method: "DELETE", path: "/groups/:id/members/:userId", permission: perms.groupsEdit, kind: "fragment",
    handler: async ({ ctx, params }) => {
      const viewer = viewerOf(ctx);
      const id = Number(params.id);
      const user = users.get(viewer, Number(params.userId));
      groups.removeMember(viewer, id, user.id, ctx.ip, user.login);
      return html(await membersFragment(ctx, id));
    },
  });

  const aclPage = (ctx: RequestContext, id: number, extra: { notice?: string; error?: string; status?: number } = {}) => {
    const viewer = viewerOf(ctx);
    const g = groups.get(viewer, id);
    const title = ctx.t("groups.aclTitle", { name: g.name });
    return web.page(ctx, {
      title, current: "/groups", status: extra.status,
      body: <AclEditor t={ctx.t} csrf={ctx.session!.csrf} title={title} action={`/groups/${id}/acl`} back={`/groups/${id}`} isSuper={false} notice={extra.notice} error={extra.error} categories={aclCategories(ctx.t, registry, access, viewer, groups.grants(viewer, id), [])} />,
    });
  };

  web.route({
    method: "GET", path: "/groups/:id/acl", permission: perms.groupsAcl, kind: "page",
    handler: ({ ctx, params, query }) => aclPage(ctx, Number(params.id), { notice: query.saved ? ctx.t("acl.saved") : undefined }),
  });

  web.route({
    method: "POST", path: "/groups/:id/acl", permission: perms.groupsAcl, kind: "action",
    handler: ({ ctx, params, body }) => {
      const viewer = viewerOf(ctx);
      const id = Number(params.id);
      try {
        groups.setGrants(viewer, id, mergeKeys(registry, access, viewer, groups.grants(viewer, id), body.keys), ctx.ip);
      } catch (err) {
        if (!(err instanceof Invalid)) throw err;
        return aclPage(ctx, id, { error: ctx.t(err.fields?.keys ?? "error.invalid"), status: 422 });
      }
      return redirect(ctx, `/groups/${id}/acl?saved=1`);
    },
  });
}
