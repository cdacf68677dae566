/**
 * @module entities
 * Routes of the entity tree (SPEC U5). Plain forms that redirect back with a notice: the
 * tree is small and a full reload keeps every path label right after a move.
 */
import { AppError, Invalid } from "../../errors.ts";
import type { Web } from "../../web/app.tsx";
import type { RequestContext } from "../../web/context.ts";
import { redirect } from "../../web/respond.ts";
import { EntitiesPage } from "../../../views/entities/entities.tsx";
import { viewerOf } from "../users/index.tsx";
import type { DirectoryPermissions } from "../users/permissions.ts";
import type { EntitiesService } from "./service.ts";

const str = (v: unknown) => (typeof v === "string" ? v : "");

export function registerEntities(web: Web, deps: { entities: EntitiesService; perms: DirectoryPermissions }): void {
  const { entities, perms } = deps;
  const { access, registry } = web.deps;

  registry.menuEntry({ id: "entities", section: "menu.section.admin", label: "nav.entities", href: "/entities", permission: perms.entitiesView, order: 120 });

  const page = (ctx: RequestContext, extra: { notice?: string; error?: string; errors?: Record<string, never>; status?: number; values?: { name: string; parentId: string } } = {}) => {
    const viewer = viewerOf(ctx);
    const nodes = entities.visibleTree(viewer);
    const minDepth = Math.min(...nodes.map((n) => n.depth));
    return web.page(ctx, {
      title: ctx.t("entities.title"), current: "/entities", status: extra.status,
      body: (
        <EntitiesPage
          t={ctx.t} csrf={ctx.session!.csrf} notice={extra.notice} error={extra.error} errors={extra.errors} values={extra.values}
          canEdit={access.can(viewer, perms.entitiesEdit)} canDelete={access.can(viewer, perms.entitiesDelete)}
          parents={nodes.map((n) => ({ value: String(n.id), label: n.path }))}
          nodes={nodes.map((n) => ({
            id: n.id, name: n.id === 1 ? `${n.name} (${ctx.t("entities.root")})` : n.name, depth: n.depth - minDepth, parentId: n.parentId,
            usage: entities.usage(n.id).map((u) => `${u.count} ${ctx.t(u.label)}`).join(" · "),
          }))}
        />
      ),
    });
  };

  const attempt = (ctx: RequestContext, body: Record<string, unknown>, run: () => void, notice: string) => {
    try {
      run();
    } catch (err) {
      if (err instanceof Invalid) return page(ctx, { status: 422, errors: err.fields as never, error: ctx.t("error.invalid"), values: { name: str(body.name), parentId: str(body.parentId) } });
      if (err instanceof AppError && err.status === 409) return page(ctx, { status: 409, error: ctx.t(err.messageKey, err.params) });
      throw err;
    }
    return redirect(ctx, `/entities?done=${notice}`);
  };

  web.route({
    method: "GET", path: "/entities", permission: perms.entitiesView, kind: "page",
    handler: ({ ctx, query }) => {
      const notices: Record<string, string> = { created: ctx.t("entities.created"), saved: ctx.t("entities.saved"), deleted: ctx.t("entities.deleted") };
      return page(ctx, { notice: notices[str(query.done)] });
    },
  });

  web.route({
    method: "POST", path: "/entities", permission: perms.entitiesEdit, kind: "action",
    handler: ({ ctx, body }) => attempt(ctx, body, () => entities.create(viewerOf(ctx), { name: body.name, parentId: body.parentId }, ctx.ip), "created"),
  });

  web.route({
    method: "POST", path: "/entities/:id", permission: perms.entitiesEdit, kind: "action",
    handler: ({ ctx, params, body }) =>
      attempt(ctx, body, () => {
        entities.update(viewerOf(ctx), Number(params.id), { name: body.name, parentId: body.parentId }, ctx.ip);
      }, "saved"),
  });

  web.route({
    method: "POST", path: "/entities/:id/delete", permission: perms.entitiesDelete, kind: "action",
    handler: ({ ctx, params, body }) => attempt(ctx, body, () => entities.remove(viewerOf(ctx), Number(params.id), ctx.ip), "deleted"),
  });
}
