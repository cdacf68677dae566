/**
 * @module dashboard
 * The dashboard (SPEC G2): the page, one widget's body as a fragment, the layout
 * (saved per user), the live-update stream, and the General widget. Other features add
 * widgets with `registry.widget(...)`; they appear here for users holding their key.
 */
import { NotFound, Forbidden } from "../../errors.ts";
import type { WidgetDef } from "../../registry.ts";
import type { Web } from "../../web/app.tsx";
import type { RequestContext } from "../../web/context.ts";
import { html } from "../../web/respond.ts";
import { DashboardPage } from "../../../views/dashboard/dashboard.tsx";
import { GeneralWidget } from "../../../views/dashboard/general-widget.tsx";
import { translator } from "../../i18n/index.ts";
import { generalStats } from "./general.ts";
import { createDashboardService } from "./service.ts";

export function registerDashboard(web: Web): void {
  const { registry, access, hub, db, clock, version } = web.deps;
  const service = createDashboardService({ db, clock });

  registry.menuEntry({ id: "dashboard", section: "menu.section.general", label: "nav.dashboard", href: "/", permission: null, order: 0 });

  registry.widget({
    id: "general",
    title: "widget.general.title",
    permission: null,
    size: { w: 2, h: 1 },
    order: 0,
    live: { everyMs: 5000 },
    render: (c) => <GeneralWidget t={c.t} lang={c.lang} stats={generalStats(version)} />,
  });

  const visibleWidgets = (ctx: RequestContext): WidgetDef[] =>
    [...registry.widgets.values()].filter((w) => w.permission === null || access.can(ctx.session!.user, w.permission));

  // Live widgets: each is a source on the page's one event stream.
  for (const w of registry.widgets.values()) {
    if (!w.live) continue;
    hub.addSource({
      event: `widget-${w.id}`,
      everyMs: w.live.everyMs,
      render: (sub) =>
        w.permission === null || access.can(sub.user, w.permission)
          ? w.render({ t: translator(sub.lang), lang: sub.lang, userId: sub.user.id, isSuper: sub.user.isSuper })
          : null,
    });
  }

  web.route({
    method: "GET", path: "/", permission: null, kind: "page",
    handler: async ({ ctx }) => {
      const widgets = visibleWidgets(ctx);
      const byId = new Map(widgets.map((w) => [w.id, w]));
      const wctx = { t: ctx.t, lang: ctx.lang, userId: ctx.session!.user.id, isSuper: ctx.session!.user.isSuper };
      const placed = await Promise.all(
        service.layoutFor(ctx.session!.user.id, widgets).map(async (item) => {
          const def = byId.get(item.id)!;
          return { ...item, title: ctx.t(def.title), live: Boolean(def.live), safeBody: item.hidden ? "" : await def.render(wctx) };
        }),
      );
      return web.page(ctx, { title: ctx.t("dashboard.title"), current: "/", scripts: ["dashboard.js"], body: <DashboardPage t={ctx.t} widgets={placed} /> });
    },
  });

  web.route({
    method: "GET", path: "/dashboard/widgets/:id", permission: null, kind: "fragment",
    handler: async ({ ctx, params }) => {
      const def = registry.widgets.get(params.id ?? "");
      if (!def) throw new NotFound();
      if (def.permission !== null && !access.can(ctx.session!.user, def.permission)) throw new Forbidden();
      return html(await def.render({ t: ctx.t, lang: ctx.lang, userId: ctx.session!.user.id, isSuper: ctx.session!.user.isSuper }));
    },
  });

  web.route({
    method: "PUT", path: "/dashboard/layout", permission: null, kind: "action",
    handler: ({ ctx, body }) => {
      service.saveLayout(ctx.session!.user.id, body, visibleWidgets(ctx));
      return new Response(null, { status: 204 });
    },
  });

  web.route({
    method: "DELETE", path: "/dashboard/layout", permission: null, kind: "action",
    handler: ({ ctx }) => {
      service.resetLayout(ctx.session!.user.id);
      return new Response(null, { status: 204 });
    },
  });

  web.route({
    method: "GET", path: "/events", permission: null, kind: "stream",
    handler: ({ ctx, request }) => hub.stream(ctx.session!.user, ctx.lang, request.signal),
  });
}
