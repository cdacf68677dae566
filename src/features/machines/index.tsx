/**
 * @module machines
 * Routes of the Computers view (SPEC C1), a machine's page with its actions and XMPP
 * console (C2, X4), machines not inventoried (C9), enrollment tokens and the enroll
 * endpoint, the "Machines online" widget, and the JSON API. Presence changes are pushed to
 * open pages as live events: the row's state badge is replaced in place, and the list
 * offers a refresh when machines appear or disappear.
 */
import { Type } from "@sinclair/typebox";
import { Invalid, NotFound } from "../../errors.ts";
import { translator, type MessageKey } from "../../i18n/index.ts";
import { actions } from "../../protocol/actions.ts";
import { encodeEnvelope } from "../../protocol/envelope.ts";
import { ListQuery, Page, decodeCursor, encodeCursor } from "../../web/api.ts";
import type { Web } from "../../web/app.tsx";
import type { RequestContext } from "../../web/context.ts";
import { html, redirect, safeNext } from "../../web/respond.ts";
import { ComputersPage, ComputersTable, StateBadge, type ComputerRow, type ComputersQuery } from "../../../views/machines/computers.tsx";
import { EnrollmentPage, type CreatedToken } from "../../../views/machines/enrollment.tsx";
import { ConsoleResult, MachinePage } from "../../../views/machines/machine.tsx";
import { NotInventoriedPage } from "../../../views/machines/not-inventoried.tsx";
import { MachinesWidget } from "../../../views/machines/widget.tsx";
import type { EntitiesService } from "../entities/service.ts";
import { formatForReader } from "../history/time.ts";
import { viewerOf } from "../users/index.tsx";
import type { AgentLink } from "./agents.ts";
import { agentPath, listAgents } from "./downloads.ts";
import { tokenState, type EnrollmentService } from "./enrollment.ts";
import { SORTS, type MachineRow, type SortKey } from "./repo.ts";
import type { MachinesService } from "./service.ts";

const str = (v: unknown) => (typeof v === "string" ? v : "");
const isSort = (v: string): v is SortKey => v in SORTS;

/** Another feature's panel on a machine's page (rendered HTML, or "" when the user may not see it). */
export type MachinePanel = (p: { ctx: RequestContext; machine: { id: number; hostname: string; online: boolean; os: string } }) => Promise<string>;

export function registerMachines(web: Web, deps: { machines: MachinesService; enrollment: EnrollmentService; agents: AgentLink; entities: EntitiesService; panels?: MachinePanel[] }): void {
  const { machines, enrollment, agents, entities } = deps;
  const { registry, access, hub } = web.deps;
  const tz = web.deps.timeZone ?? "UTC";
  const p = (key: string, label: MessageKey) => registry.permission({ key, category: "perm.category.machines", label });
  const perms = {
    view: p("machines.view", "perm.machines.view"),
    console: p("machines.console", "perm.machines.console"),
    ban: p("machines.ban", "perm.machines.ban"),
    del: p("machines.delete", "perm.machines.delete"),
    enroll: p("machines.enroll", "perm.machines.enroll"),
  };

  registry.menuEntry({ id: "computers", section: "menu.section.computers", label: "nav.computers", href: "/computers", permission: perms.view, order: 10 });
  registry.menuEntry({ id: "not-inventoried", section: "menu.section.computers", label: "nav.notInventoried", href: "/computers/not-inventoried", permission: perms.view, order: 11 });
  registry.menuEntry({ id: "enrollment", section: "menu.section.computers", label: "nav.enrollment", href: "/enrollment", permission: perms.enroll, order: 12 });

  registry.widget({
    id: "machines", title: "widget.machines.title", permission: perms.view, size: { w: 1, h: 1 }, order: 1, live: { everyMs: 5000 },
    render: (c) => {
      const n = machines.counts({ id: c.userId, login: "", isSuper: c.isSuper });
      return <MachinesWidget t={c.t} online={n.online} total={n.total} />;
    },
  });

  // Live: a state change replaces the badge wherever it is shown; arrivals and departures
  // tell list pages that a refresh would show something new.
  machines.onChange((m, change) => {
    void hub.publish("swap", async (sub) => {
      if (!access.can(sub.user, perms.view) || !entities.visibleIds({ id: sub.user.id, login: "", isSuper: sub.user.isSuper }).has(m.entity_id)) return null;
      const t = translator(sub.lang);
      return change === "deleted" ? null : await <StateBadge t={t} id={m.id} online={m.online === 1} banned={m.banned === 1} />;
    });
    if (change === "created" || change === "deleted") void hub.publish("trigger", (sub) => (access.can(sub.user, perms.view) ? "machines-changed" : null));
  });

  const rowOf = (m: MachineRow & { entity_name: string }, ctx: RequestContext): ComputerRow => ({
    id: m.id, hostname: m.hostname, online: m.online === 1, banned: m.banned === 1, os: [m.os_name, m.os_version].filter(Boolean).join(" "),
    ip: m.xmpp_ip || (JSON.parse(m.ips) as string[])[0] || "", user: m.logged_user, entity: m.entity_name,
    seen: m.last_seen_at ? formatForReader(m.last_seen_at, tz, ctx.lang) : "",
  });

  const cursorKey = Type.Object({ v: Type.Union([Type.String(), Type.Number()]), id: Type.Integer() });
  const sortValue = (m: MachineRow & { entity_name: string }, sort: SortKey): string | number =>
    ({ hostname: m.hostname, os: m.os_name, entity: m.entity_name, user: m.logged_user, ip: m.xmpp_ip, seen: m.last_seen_at ?? 0, state: m.online })[sort];

  web.route({
    method: "GET", path: "/computers", permission: perms.view, kind: "page",
    handler: async ({ ctx, query }) => {
      const viewer = viewerOf(ctx);
      const q: ComputersQuery = {
        state: query.state === "online" || query.state === "offline" ? query.state : "all",
        entity: /^\d+$/.test(str(query.entity)) ? str(query.entity) : "",
        q: str(query.q).slice(0, 100),
        sort: isSort(str(query.sort)) ? str(query.sort) : "hostname",
        dir: query.dir === "desc" ? "desc" : "asc",
      };
      let after: { v: string | number; id: number } | undefined;
      try {
        after = decodeCursor(cursorKey, str(query.after) || undefined);
      } catch {
        after = undefined; // a stale or edited cursor: start from the top
      }
      const page = machines.list(viewer, { state: q.state, entity: q.entity ? Number(q.entity) : null, search: q.q, sort: q.sort as SortKey, desc: q.dir === "desc", after: after ?? null, limit: 50 });
      const last = page.items.at(-1);
      const props = {
        t: ctx.t, query: q, isFirst: !after, counts: machines.counts(viewer),
        next: page.hasMore && last ? encodeCursor({ v: sortValue(last, q.sort as SortKey), id: last.id }) : null,
        rows: page.items.map((m) => rowOf(m, ctx)),
      };
      if (ctx.isHtmx) return html(await <ComputersTable {...props} />);
      const ents = entities.visibleTree(viewer).map((e) => ({ value: String(e.id), label: e.path }));
      return web.page(ctx, { title: ctx.t("computers.title"), current: "/computers", body: <ComputersPage {...props} entities={ents} /> });
    },
  });

  web.route({
    method: "GET", path: "/computers/not-inventoried", permission: perms.view, kind: "page",
    handler: ({ ctx }) => {
      const viewer = viewerOf(ctx);
      const rows = machines.list(viewer, { notInventoried: true, limit: 500 }).items.map((m) => ({
        id: m.id, hostname: m.hostname, jid: m.jid ?? "", arch: m.arch, machineClass: m.machine_class, kiosk: m.has_kiosk === 1, userOu: m.user_ou, machineOu: m.machine_ou,
        cluster: m.relay_id === "local" ? ctx.t("notinv.localCluster") : m.relay_id, macs: machines.macs(m.id).map((x) => x.mac).join(" "), ip: m.xmpp_ip, online: m.online === 1, banned: m.banned === 1,
      }));
      return web.page(ctx, {
        title: ctx.t("notinv.title"), current: "/computers/not-inventoried",
        body: <NotInventoriedPage t={ctx.t} csrf={ctx.session!.csrf} rows={rows} canBan={access.can(viewer, perms.ban)} canDelete={access.can(viewer, perms.del)} canRequestInventory={access.can(viewer, "inventory.request")} />,
      });
    },
  });

  web.route({
    method: "GET", path: "/computers/:id", permission: perms.view, kind: "page",
    handler: async ({ ctx, params }) => {
      const viewer = viewerOf(ctx);
      const m = machines.get(viewer, Number(params.id));
      const safePanels = (await Promise.all((deps.panels ?? []).map((panel) => panel({ ctx, machine: { id: m.id, hostname: m.hostname, online: m.online === 1 && m.banned !== 1, os: m.os } })))).join("");
      const when = (ms: number | null) => (ms ? formatForReader(ms, tz, ctx.lang) : "—");
      const facts: [string, string][] = [
        [ctx.t("machine.hostname"), m.hostname],
        [ctx.t("machine.os"), [m.os_name, m.os_version].filter(Boolean).join(" ") || m.os || "—"],
        [ctx.t("machine.arch"), m.arch || "—"],
        [ctx.t("machine.ips"), (JSON.parse(m.ips) as string[]).join(", ") || "—"],
        [ctx.t("machine.macs"), machines.macs(m.id).map((x) => x.mac).join(", ") || "—"],
        [ctx.t("machine.user"), m.logged_user || "—"],
        [ctx.t("machine.uptime"), m.uptime_seconds !== null ? `${Math.floor(m.uptime_seconds / 3600)} h ${Math.floor((m.uptime_seconds % 3600) / 60)} min` : "—"],
        [ctx.t("machine.agent"), m.agent_version || "—"],
        [ctx.t("machine.jid"), m.jid ?? "—"],
        [ctx.t("machine.entity"), entities.tree().find((e) => e.id === m.entity_id)?.path ?? "—"],
        [ctx.t("machine.serial"), [m.manufacturer, m.serial].filter(Boolean).join(" ") || "—"],
        [ctx.t("machine.uuid"), m.smbios_uuid ?? "—"],
        [ctx.t("machine.since"), when(m.online_since)],
        [ctx.t("machine.lastSeen"), when(m.last_seen_at)],
      ];
      return web.page(ctx, {
        title: ctx.t("machine.title", { name: m.hostname }), current: "/computers",
        body: <MachinePage t={ctx.t} csrf={ctx.session!.csrf} m={{ id: m.id, hostname: m.hostname, online: m.online === 1, banned: m.banned === 1, facts }} canConsole={access.can(viewer, perms.console)} canBan={access.can(viewer, perms.ban)} canDelete={access.can(viewer, perms.del)} canInventory={access.can(viewer, "inventory.view")} actions={Object.keys(actions)} safePanels={safePanels} />,
      });
    },
  });

  web.route({
    method: "POST", path: "/computers/:id/console", permission: perms.console, kind: "fragment",
    handler: async ({ ctx, params, body }) => {
      const action = str(body.action).trim();
      let data: unknown = {};
      try {
        data = body.data === undefined || str(body.data).trim() === "" ? {} : JSON.parse(str(body.data));
      } catch {
        data = null;
      }
      if (!action || action.length > 100 || !data || typeof data !== "object" || Array.isArray(data)) throw new Invalid({ data: "console.badJson" }, "console.badJson");
      const r = await agents.console(viewerOf(ctx), Number(params.id), action, data as Record<string, unknown>, ctx.ip);
      const pretty = (v: unknown) => JSON.stringify(JSON.parse(encodeEnvelope(v as never)), null, 2);
      return html(await <ConsoleResult t={ctx.t} request={pretty(r.request)} reply={r.reply ? pretty(r.reply) : null} error={r.error} ms={r.ms} />);
    },
  });

  for (const [path, run, perm] of [
    ["ban", (c: RequestContext, id: number) => agents.ban(viewerOf(c), id, c.ip), perms.ban],
    ["unban", (c: RequestContext, id: number) => agents.unban(viewerOf(c), id, c.ip), perms.ban],
    ["delete", (c: RequestContext, id: number) => agents.remove(viewerOf(c), id, c.ip), perms.del],
  ] as const) {
    web.route({
      method: "POST", path: `/computers/:id/${path}`, permission: perm, kind: "action",
      handler: ({ ctx, params, body }) => {
        const id = Number(params.id);
        run(ctx, id);
        const back = safeNext(body.back);
        return redirect(ctx, back !== "/" ? back : path === "delete" ? "/computers" : `/computers/${id}`);
      },
    });
  }

  const enrollmentPage = (ctx: RequestContext, extra: { created?: CreatedToken; errors?: Record<string, MessageKey>; values?: Record<string, string>; status?: number } = {}) => {
    const viewer = viewerOf(ctx);
    const tree = entities.visibleTree(viewer);
    const now = web.deps.clock.now();
    const tokens = enrollment.list(viewer).map((tk) => ({
      id: tk.id, name: tk.name, entity: tree.find((e) => e.id === tk.entity_id)?.path ?? "", expires: formatForReader(tk.expires_at, tz, ctx.lang),
      uses: tk.max_uses === null ? String(tk.uses) : `${tk.uses} / ${tk.max_uses}`, state: tokenState(tk, now), by: tk.created_by_login ?? "",
    }));
    return web.page(ctx, {
      title: ctx.t("enroll.title"), current: "/enrollment", status: extra.status,
      body: <EnrollmentPage t={ctx.t} csrf={ctx.session!.csrf} tokens={tokens} entities={tree.map((e) => ({ value: String(e.id), label: e.path }))} created={extra.created} errors={extra.errors} values={extra.values} agents={listAgents()} />,
    });
  };

  web.route({ method: "GET", path: "/enrollment", permission: perms.enroll, kind: "page", handler: ({ ctx }) => enrollmentPage(ctx) });

  // The agent binaries: public, like the iPXE files (computers fetch them before they have
  // any credential; the enrollment token is what grants access). See downloads.ts.
  web.route({
    method: "GET", path: "/agent/:file", permission: "public", kind: "asset",
    handler: ({ params }) => {
      const path = agentPath(String(params.file ?? ""));
      if (!path) throw new NotFound();
      return new Response(Bun.file(path), {
        headers: { "content-type": "application/octet-stream", "content-disposition": `attachment; filename="${params.file}"`, "cache-control": "no-cache", "x-content-type-options": "nosniff" },
      });
    },
  });

  web.route({
    method: "POST", path: "/enrollment", permission: perms.enroll, kind: "action",
    handler: ({ ctx, body }) => {
      try {
        const created = enrollment.create(viewerOf(ctx), { name: body.name, entityId: body.entityId, validDays: body.validDays, maxUses: body.maxUses }, ctx.ip);
        return enrollmentPage(ctx, { created, status: 201 });
      } catch (err) {
        if (!(err instanceof Invalid)) throw err;
        return enrollmentPage(ctx, { errors: err.fields, status: 422, values: { name: str(body.name), entityId: str(body.entityId), validDays: str(body.validDays), maxUses: str(body.maxUses) } });
      }
    },
  });

  web.route({
    method: "POST", path: "/enrollment/:id/revoke", permission: perms.enroll, kind: "action",
    handler: ({ ctx, params }) => {
      enrollment.revoke(viewerOf(ctx), Number(params.id), ctx.ip);
      return redirect(ctx, "/enrollment");
    },
  });

  registerMachinesApi(web, { machines, enrollment, perms, sortValue, cursorKey });
}

function registerMachinesApi(web: Web, deps: { machines: MachinesService; enrollment: EnrollmentService; perms: { view: string; enroll: string }; sortValue: (m: MachineRow & { entity_name: string }, s: SortKey) => string | number; cursorKey: ReturnType<typeof Type.Object> }) {
  const { machines, enrollment, perms } = deps;
  const Machine = Type.Object({
    id: Type.Integer(), hostname: Type.String(), online: Type.Boolean(), banned: Type.Boolean(), entityId: Type.Integer(), entity: Type.String(),
    os: Type.String(), osName: Type.String(), osVersion: Type.String(), arch: Type.String(), ips: Type.Array(Type.String()), xmppIp: Type.String(),
    loggedUser: Type.String(), agentVersion: Type.String(), jid: Type.Union([Type.String(), Type.Null()]),
    lastSeenAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]), inventoriedAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  });
  const iso = (ms: number | null) => (ms ? new Date(ms).toISOString() : null);
  const toApi = (m: MachineRow & { entity_name: string }) => ({
    id: m.id, hostname: m.hostname, online: m.online === 1, banned: m.banned === 1, entityId: m.entity_id, entity: m.entity_name, os: m.os, osName: m.os_name,
    osVersion: m.os_version, arch: m.arch, ips: JSON.parse(m.ips) as string[], xmppIp: m.xmpp_ip, loggedUser: m.logged_user, agentVersion: m.agent_version, jid: m.jid,
    lastSeenAt: iso(m.last_seen_at), inventoriedAt: iso(m.inventoried_at),
  });

  web.api({
    method: "GET", path: "/api/v1/machines", permission: perms.view, summary: "List machines (the Computers view)", tags: ["machines"],
    query: Type.Composite([ListQuery, Type.Object({
      state: Type.Optional(Type.Union([Type.Literal("all"), Type.Literal("online"), Type.Literal("offline")])),
      entity: Type.Optional(Type.Integer({ minimum: 1 })),
      search: Type.Optional(Type.String({ maxLength: 100 })),
      sort: Type.Optional(Type.Union(Object.keys(SORTS).map((k) => Type.Literal(k)))),
      desc: Type.Optional(Type.Boolean()),
    })]),
    response: Page(Machine),
    handler: ({ ctx, query }) => {
      const sort = (query.sort ?? "hostname") as SortKey;
      const after = decodeCursor(deps.cursorKey, query.cursor) as { v: string | number; id: number } | undefined;
      const page = machines.list(viewerOf(ctx), { state: query.state, entity: query.entity ?? null, search: query.search, sort, desc: query.desc, after: after ?? null, limit: query.limit ?? 50 });
      const last = page.items.at(-1);
      return { items: page.items.map(toApi), next: page.hasMore && last ? encodeCursor({ v: deps.sortValue(last, sort), id: last.id }) : null };
    },
  });

  web.api({
    method: "GET", path: "/api/v1/machines/:id", permission: perms.view, summary: "One machine", tags: ["machines"],
    params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), response: Machine,
    handler: ({ ctx, params }) => {
      const m = machines.get(viewerOf(ctx), params.id);
      const row = machines.list(viewerOf(ctx), { search: "", limit: 500 }).items.find((x) => x.id === m.id);
      return toApi(row ?? { ...m, entity_name: "" });
    },
  });

  const Token = Type.Object({ id: Type.Integer(), name: Type.String(), entityId: Type.Integer(), expiresAt: Type.String({ format: "date-time" }), maxUses: Type.Union([Type.Integer(), Type.Null()]), uses: Type.Integer(), state: Type.String() });
  web.api({
    method: "POST", path: "/api/v1/enrollment-tokens", permission: perms.enroll, summary: "Create an enrollment token", tags: ["enrollment"], status: 201,
    body: Type.Object({ name: Type.Optional(Type.String({ maxLength: 100 })), entityId: Type.Optional(Type.Integer({ minimum: 1 })), validDays: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 365 })), maxUses: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })) }),
    response: Type.Object({ id: Type.Integer(), token: Type.String(), expiresAt: Type.String({ format: "date-time" }), caFingerprint: Type.String(), commands: Type.Record(Type.String(), Type.String()) }),
    handler: ({ ctx, body }) => {
      const r = enrollment.create(viewerOf(ctx), body, ctx.ip);
      return { ...r, expiresAt: new Date(r.expiresAt).toISOString() };
    },
  });
  web.api({
    method: "GET", path: "/api/v1/enrollment-tokens", permission: perms.enroll, summary: "List enrollment tokens", tags: ["enrollment"],
    response: Page(Token),
    handler: ({ ctx }) => {
      const now = web.deps.clock.now();
      return { items: enrollment.list(viewerOf(ctx)).map((t) => ({ id: t.id, name: t.name, entityId: t.entity_id, expiresAt: new Date(t.expires_at).toISOString(), maxUses: t.max_uses, uses: t.uses, state: tokenState(t, now) })), next: null };
    },
  });
  web.api({
    method: "DELETE", path: "/api/v1/enrollment-tokens/:id", permission: perms.enroll, summary: "Revoke an enrollment token", tags: ["enrollment"], status: 204,
    params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
    handler: ({ ctx, params }) => {
      enrollment.revoke(viewerOf(ctx), params.id, ctx.ip);
    },
  });
  web.api({
    method: "POST", path: "/api/v1/agents/enroll", permission: "public", summary: "An agent enrolls with a token and receives its XMPP account", tags: ["agents"],
    body: Type.Object({
      token: Type.String({ minLength: 1, maxLength: 200 }), hostname: Type.String({ minLength: 1, maxLength: 255 }), os: Type.String({ maxLength: 32 }), arch: Type.String({ maxLength: 32 }),
      uuid: Type.Optional(Type.String({ maxLength: 64 })), serial: Type.Optional(Type.String({ maxLength: 128 })), manufacturer: Type.Optional(Type.String({ maxLength: 128 })),
      macs: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 64 })),
    }),
    response: Type.Object({ machineId: Type.Integer(), jid: Type.String(), password: Type.String(), domain: Type.String(), serverJid: Type.String(), xmppHost: Type.String(), xmppPort: Type.Integer(), caFingerprint: Type.String() }),
    handler: ({ ctx, body }) => enrollment.enroll(body, ctx.ip),
  });
}
