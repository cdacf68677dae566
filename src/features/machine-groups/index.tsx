/**
 * @module machine-groups
 * Routes of machine groups (SPEC C4–C7): "All groups", a group's page with its members,
 * actions and movements, the static and dynamic editors with the builder's preview, the
 * import in two steps, favourites (a star on each group, and the user's favourites in the
 * menu), and group actions (./actions.ts; export CSV is registered here). Re-evaluation is
 * wired here too: a machine's change (facts, presence, deletion) or a stored inventory
 * re-evaluates that machine, coalesced per tick; a job re-evaluates everything every 15
 * minutes for criteria that move with time alone. Declares `machinegroups.*` rights. The
 * import's two steps are in ./import-routes.tsx.
 */
import { Forbidden, Invalid, NotFound } from "../../errors.ts";
import type { MessageKey } from "../../i18n/index.ts";
import { decodeCursor, encodeCursor } from "../../web/api.ts";
import type { Web } from "../../web/app.tsx";
import type { RequestContext } from "../../web/context.ts";
import { html, redirect } from "../../web/respond.ts";
import { Type } from "@sinclair/typebox";
import { Alert } from "../../../views/shell/layout.tsx";
import { GroupPage, Members, type MembersProps } from "../../../views/machine-groups/group.tsx";
import { DynamicForm, PickerResults, PreviewResult, StaticForm, type BuilderData } from "../../../views/machine-groups/forms.tsx";
import { FavouriteButton, MachineGroupsPage, MachineGroupsTable } from "../../../views/machine-groups/list.tsx";
import type { EntitiesService } from "../entities/service.ts";
import { formatForReader } from "../history/time.ts";
import { csvDownload, pagedBatches } from "../inventory/export.ts";
import type { MachinesService } from "../machines/service.ts";
import { viewerOf } from "../users/index.tsx";
import { createGroupActions, type GroupActions } from "./actions.ts";
import { FIELD_IDS, FIELDS, OPS_OF } from "./query.ts";
import { createMachineGroupsService, type MachineGroupsService } from "./service.ts";
import { registerMachineGroupsApi } from "./api.ts";
import { registerImportRoutes } from "./import-routes.tsx";

const str = (v: unknown) => (typeof v === "string" ? v : "");
const strs = (v: unknown) => (Array.isArray(v) ? v.map(String) : v === undefined || v === "" ? [] : [String(v)]);
const isOn = (v: unknown) => v === "on" || v === "1" || v === "true" || v === true;
const CursorKey = Type.Object({ n: Type.String(), id: Type.Integer() });
/** How long entered/left events are kept (membership itself is kept for ever). */
export const EVENTS_KEPT_DAYS = 180;

export interface MachineGroupsFeature {
  service: MachineGroupsService;
  actions: GroupActions;
  perms: { view: string; edit: string; del: string; export: string };
}


const OP_LABEL: Record<string, MessageKey> = { "<": "mgroups.op.lt", "<=": "mgroups.op.le", "=": "mgroups.op.eq", ">=": "mgroups.op.ge", ">": "mgroups.op.gt" };
const opLabel = (op: string): MessageKey => OP_LABEL[op] ?? (`mgroups.op.${op}` as MessageKey);

export function registerMachineGroups(web: Web, deps: { machines: MachinesService; entities: EntitiesService; onInventoryStored?: (listener: (machineId: number) => void) => void }): MachineGroupsFeature {
  const { registry, access, db, clock, recorder, scheduler } = web.deps;
  const tz = web.deps.timeZone ?? "UTC";
  const p = (key: string, label: MessageKey) => registry.permission({ key, category: "perm.category.machineGroups", label });
  const perms = {
    view: p("machinegroups.view", "perm.machineGroups.view"),
    edit: p("machinegroups.edit", "perm.machineGroups.edit"),
    del: p("machinegroups.delete", "perm.machineGroups.delete"),
    export: p("machinegroups.export", "perm.machineGroups.export"),
  };
  const service = createMachineGroupsService({ db, clock, recorder, entities: deps.entities });
  const actions = createGroupActions();

  // ---- re-evaluation -------------------------------------------------------------------
  // Machine events can fire inside another feature's transaction (an inventory's upsert):
  // evaluate after it, once per machine per tick.
  const pending = new Set<number>();
  const flush = () => {
    const ids = [...pending];
    pending.clear();
    try {
      service.evaluateMachines(ids);
    } catch (err) {
      // Never into the caller's microtask: the next change or the 15-minute job tries again.
      web.deps.log.error({ err: (err as Error).message, machines: ids.length }, "machine groups: re-evaluation failed");
    }
  };
  const touch = (id: number) => {
    if (pending.size === 0) queueMicrotask(flush);
    pending.add(id);
  };
  deps.machines.onChange((m) => touch(m.id));
  deps.onInventoryStored?.((id) => touch(id));
  scheduler.register("machinegroups.evaluate", () => void service.evaluateAll());
  scheduler.schedule("machinegroups.evaluate", "machinegroups.evaluate", "every:900000");
  scheduler.register("machinegroups.events.purge", () => void service.purgeEvents(EVENTS_KEPT_DAYS));
  scheduler.schedule("machinegroups.events.purge", "machinegroups.events.purge", "daily:03:50");

  // ---- menu ----------------------------------------------------------------------------
  registry.menuEntry({ id: "machine-groups", section: "menu.section.computers", label: "nav.machineGroups", href: "/machine-groups", permission: perms.view, order: 15 });
  registry.menuSource((user) =>
    access.can(user, perms.view) ? service.favourites(user.id).map((g, i) => ({ section: "nav.machineGroupsFavourites" as MessageKey, label: g.name, href: `/machine-groups/${g.id}`, order: 16 + i / 100 })) : [],
  );

  // ---- export CSV, the first group action ----------------------------------------------
  actions.register({
    id: "export-csv", label: "mgroups.action.exportCsv", permission: perms.export, kind: "download", order: 90,
    run: (c) => {
      const header = ["hostname", "state", "os", "entity", "user", "ip", "serial", "agent_version", "last_seen", "inventoried", "member_since"];
      const fetch = (after: { n: string; id: number } | null) => service.visibleMembers(c.viewer, c.groupId, { after, limit: 1000 });
      const when = (ms: number | null) => (ms ? formatForReader(ms, tz, c.lang) : "");
      const slug = c.groupName.normalize("NFD").replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "").toLowerCase().slice(0, 40) || String(c.groupId);
      return csvDownload(`group-${slug}`, header, pagedBatches(fetch, (m) => [
        m.hostname, m.online ? "online" : "offline", [m.os_name, m.os_version].filter(Boolean).join(" "), m.entity_name, m.logged_user, m.xmpp_ip, m.serial, m.agent_version,
        when(m.last_seen_at), when(m.inventoried_at), when(m.since),
      ]), { now: clock.now(), timeZone: tz });
    },
  });

  async function runAction(ctx: RequestContext, groupId: number, actionId: string): Promise<Response> {
    const viewer = viewerOf(ctx);
    const action = actions.get(actionId);
    if (!action) throw new NotFound("mgroups.error.unknownAction");
    if (!access.can(viewer, action.permission)) throw new Forbidden();
    const g = service.get(viewer, groupId);
    const machineIds = service.visibleMemberIds(viewer, groupId);
    recorder.record({ module: "machines", action: "mgroups.history.action", params: { action: ctx.t(action.label), name: g.name, count: machineIds.length }, criterion: "machine", userId: viewer.id, userLogin: viewer.login, sourceIp: ctx.ip, target: { type: "machine-group", id: g.id, name: g.name } });
    const out = await action.run({ viewer, groupId, groupName: g.name, machineIds, ip: ctx.ip, lang: ctx.lang });
    if (out instanceof Response) return out;
    return html(await <Alert kind="success" text={out.message ?? ctx.t("mgroups.actionDone", { action: ctx.t(action.label), count: out.count })} />);
  }

  // ---- list ----------------------------------------------------------------------------
  const cursorOf = (v: unknown) => {
    try {
      return decodeCursor(CursorKey, str(v) || undefined) ?? null;
    } catch {
      return null;
    }
  };

  web.route({
    method: "GET", path: "/machine-groups", permission: perms.view, kind: "page",
    handler: async ({ ctx, query }) => {
      const viewer = viewerOf(ctx);
      const search = str(query.q).slice(0, 100);
      const page = service.list(viewer, { search, after: cursorOf(query.after) });
      const props = {
        t: ctx.t, search, next: page.next ? encodeCursor(page.next) : null, canEdit: access.can(viewer, perms.edit), canDelete: access.can(viewer, perms.del),
        rows: page.items.map((g) => ({ id: g.id, name: g.name, kind: g.kind, origin: g.origin, members: g.members, creator: g.creator ?? "", favourite: g.favourite === 1 })),
      };
      if (ctx.isHtmx) return html(await <MachineGroupsTable {...props} />);
      const notice = query.deleted ? ctx.t("mgroups.deleted") : undefined;
      return web.page(ctx, { title: ctx.t("mgroups.title"), current: "/machine-groups", body: <MachineGroupsPage {...props} notice={notice} /> });
    },
  });

  web.route({
    method: "POST", path: "/machine-groups/:id/favourite", permission: perms.view, kind: "fragment",
    handler: async ({ ctx, params, body }) => {
      const on = isOn(body.on);
      service.setFavourite(viewerOf(ctx), Number(params.id), on);
      return html(await <FavouriteButton t={ctx.t} id={Number(params.id)} on={on} />);
    },
  });

  web.route({
    method: "DELETE", path: "/machine-groups/:id", permission: perms.del, kind: "action",
    handler: ({ ctx, params }) => {
      service.remove(viewerOf(ctx), Number(params.id), ctx.ip);
      return ctx.isHtmx ? html("") : redirect(ctx, "/machine-groups?deleted=1");
    },
  });

  // ---- one group -----------------------------------------------------------------------
  const membersProps = (ctx: RequestContext, id: number, search: string, after: { n: string; id: number } | null): MembersProps => {
    const viewer = viewerOf(ctx);
    const page = service.visibleMembers(viewer, id, { search, after, limit: 50 });
    return {
      t: ctx.t, groupId: id, search, next: page.next ? encodeCursor(page.next) : null, total: service.visibleMemberIds(viewer, id).length,
      rows: page.items.map((m) => ({ id: m.id, hostname: m.hostname, online: m.online === 1, os: [m.os_name, m.os_version].filter(Boolean).join(" "), entity: m.entity_name, user: m.logged_user, since: formatForReader(m.since, tz, ctx.lang) })),
    };
  };

  web.route({
    method: "GET", path: "/machine-groups/:id", permission: perms.view, kind: "page",
    handler: async ({ ctx, params, query }) => {
      const viewer = viewerOf(ctx);
      const id = Number(params.id);
      const g = service.get(viewer, id);
      const members = membersProps(ctx, id, str(query.q).slice(0, 100), cursorOf(query.after));
      if (ctx.isHtmx) return html(await <Members {...members} />);
      const recent = service.events(viewer, id, null, 20);
      const seen = service.visibleMachines(viewer, recent.map((e) => e.machine_id));
      const events = recent.map((e) => ({ at: formatForReader(e.at, tz, ctx.lang), hostname: seen.has(e.machine_id) && e.hostname ? e.hostname : `#${e.machine_id}`, change: e.change }));
      const notice = query.created ? ctx.t("mgroups.created") : query.saved ? ctx.t("mgroups.saved") : undefined;
      return web.page(ctx, {
        title: ctx.t("mgroups.groupTitle", { name: g.name }), current: "/machine-groups",
        body: (
          <GroupPage
            t={ctx.t} notice={notice} members={members} events={events} canEdit={access.can(viewer, perms.edit)}
            group={{ id, name: g.name, kind: g.kind, origin: g.origin, description: g.description, evaluatedAt: g.evaluated_at ? formatForReader(g.evaluated_at, tz, ctx.lang) : "", favourite: service.isFavourite(viewer.id, id) }}
            actions={actions.all().filter((a) => access.can(viewer, a.permission)).map((a) => ({ id: a.id, label: ctx.t(a.label), kind: a.kind, confirm: a.confirm ? ctx.t(a.confirm) : undefined }))}
          />
        ),
      });
    },
  });

  web.route({ method: "GET", path: "/machine-groups/:id/actions/:action", permission: perms.view, kind: "action", handler: ({ ctx, params }) => runAction(ctx, Number(params.id), params.action!) });
  web.route({ method: "POST", path: "/machine-groups/:id/actions/:action", permission: perms.view, kind: "action", handler: ({ ctx, params }) => runAction(ctx, Number(params.id), params.action!) });

  // ---- editors -------------------------------------------------------------------------
  const builderData = (ctx: RequestContext, selfId: number | null): BuilderData => {
    const viewer = viewerOf(ctx);
    const section = (f: string) => (f === "group" ? ctx.t("mgroups.fieldset.groups") : f.startsWith("agent.") ? ctx.t("mgroups.fieldset.agent") : ctx.t("mgroups.fieldset.inventory"));
    const fields: BuilderData["fields"] = {};
    for (const f of FIELD_IDS) {
      const kind = FIELDS[f].kind;
      fields[f] = { kind, label: ctx.t(`mgroups.field.${f}` as MessageKey), section: section(f), ops: OPS_OF[kind].map((op) => ({ value: op, label: ctx.t(opLabel(op)) })) };
    }
    const labels: Record<string, string> = {};
    for (const k of ["all", "any", "none", "match", "addRule", "addBlock", "remove"] as const) labels[k] = ctx.t(`mgroups.builder.${k}`);
    for (const k of ["name", "exact", "version", "anyVersion", "publisher"] as const) labels[`sw.${k}`] = ctx.t(`mgroups.sw.${k}`);
    labels.yes = ctx.t("mgroups.yes");
    labels.no = ctx.t("mgroups.no");
    return {
      fields, labels,
      groups: service.all().filter((g) => g.id !== selfId).map((g) => ({ value: String(g.id), label: g.name })),
      entities: deps.entities.visibleTree(viewer).map((e) => ({ value: String(e.id), label: e.path })),
    };
  };

  const pickable = (m: { id: number; hostname: string; os_name: string; entity_name: string; logged_user: string }) => ({ id: m.id, hostname: m.hostname, detail: [m.os_name, m.entity_name, m.logged_user].filter(Boolean).join(" · ") });

  const staticForm = (ctx: RequestContext, id: number | null, values: { name: string; description: string; favourite: boolean }, memberIds: number[], extra: { errors?: Record<string, MessageKey>; error?: string } = {}) => {
    const viewer = viewerOf(ctx);
    const members = deps.machines.list(viewer, { limit: 500 }).items.filter((m) => memberIds.includes(m.id));
    const more = id === null ? [] : service.visibleMembers(viewer, id, { limit: 1000 }).items.filter((m) => !members.some((x) => x.id === m.id));
    const rows = [...members.map(pickable), ...more.map(pickable)];
    return <StaticForm t={ctx.t} csrf={ctx.session!.csrf} id={id} values={values} members={rows} {...extra} />;
  };

  web.route({
    method: "GET", path: "/machine-groups/new/static", permission: perms.edit, kind: "page",
    handler: ({ ctx, query }) => {
      const preset = strs(query.machine).map(Number).filter(Number.isInteger);
      return web.page(ctx, { title: ctx.t("mgroups.newStatic"), current: "/machine-groups", scripts: ["machine-groups.js"], body: staticForm(ctx, null, { name: "", description: "", favourite: false }, preset) });
    },
  });

  web.route({
    method: "GET", path: "/machine-groups/picker", permission: perms.edit, kind: "fragment",
    handler: async ({ ctx, query }) => {
      const q = str(query.q).trim().slice(0, 100);
      const rows = q ? deps.machines.list(viewerOf(ctx), { search: q, limit: 100 }).items.map(pickable) : [];
      return html(await <PickerResults t={ctx.t} rows={rows} searched={q !== ""} />);
    },
  });

  const dynamicForm = (ctx: RequestContext, id: number | null, values: { name: string; description: string; favourite: boolean }, query: string, extra: { errors?: Record<string, MessageKey>; error?: string } = {}) => (
    <DynamicForm t={ctx.t} csrf={ctx.session!.csrf} id={id} values={values} query={query} builder={builderData(ctx, id)} {...extra} />
  );

  web.route({
    method: "GET", path: "/machine-groups/new/dynamic", permission: perms.edit, kind: "page",
    handler: ({ ctx }) =>
      web.page(ctx, { title: ctx.t("mgroups.newDynamic"), current: "/machine-groups", scripts: ["machine-groups.js"], body: dynamicForm(ctx, null, { name: "", description: "", favourite: false }, JSON.stringify({ all: [] })) }),
  });

  const valuesOf = (body: Record<string, unknown>) => ({ name: str(body.name), description: str(body.description), favourite: isOn(body.favourite) });

  /** Saves a group from a form; a refusal shows the form again with its errors. */
  const save = (ctx: RequestContext, id: number | null, kind: "static" | "dynamic", body: Record<string, unknown>) => {
    const viewer = viewerOf(ctx);
    const values = valuesOf(body);
    const machineIds = strs(body.machines).map(Number).filter(Number.isSafeInteger);
    let target: number;
    try {
      if (id !== null) {
        service.update(viewer, id, { ...values, query: kind === "dynamic" ? str(body.query) : undefined, machineIds: kind === "static" ? machineIds : undefined }, ctx.ip);
        target = id;
      } else if (kind === "static") target = service.createStatic(viewer, { ...values, machineIds }, ctx.ip);
      else target = service.createDynamic(viewer, { ...values, query: str(body.query) }, ctx.ip);
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      const error = ctx.t(err.messageKey, err.params);
      const form = kind === "static" ? staticForm(ctx, id, values, machineIds, { errors: err.fields, error }) : dynamicForm(ctx, id, values, str(body.query), { errors: err.fields, error });
      return web.page(ctx, { title: values.name || ctx.t("mgroups.title"), current: "/machine-groups", status: 422, scripts: ["machine-groups.js"], body: form });
    }
    return redirect(ctx, `/machine-groups/${target}?${id === null ? "created" : "saved"}=1`);
  };

  web.route({ method: "POST", path: "/machine-groups/static", permission: perms.edit, kind: "action", handler: ({ ctx, body }) => save(ctx, null, "static", body) });
  web.route({ method: "POST", path: "/machine-groups/dynamic", permission: perms.edit, kind: "action", handler: ({ ctx, body }) => save(ctx, null, "dynamic", body) });

  web.route({
    method: "GET", path: "/machine-groups/:id/edit", permission: perms.edit, kind: "page",
    handler: ({ ctx, params }) => {
      const viewer = viewerOf(ctx);
      const g = service.get(viewer, Number(params.id));
      const values = { name: g.name, description: g.description, favourite: service.isFavourite(viewer.id, g.id) };
      const body = g.kind === "static" ? staticForm(ctx, g.id, values, []) : dynamicForm(ctx, g.id, values, g.query ?? "");
      return web.page(ctx, { title: ctx.t("mgroups.editTitle", { name: g.name }), current: "/machine-groups", scripts: ["machine-groups.js"], body });
    },
  });

  web.route({
    method: "POST", path: "/machine-groups/:id", permission: perms.edit, kind: "action",
    handler: ({ ctx, params, body }) => {
      const g = service.get(viewerOf(ctx), Number(params.id));
      return save(ctx, g.id, g.kind, body);
    },
  });

  web.route({
    method: "POST", path: "/machine-groups/preview", permission: perms.edit, kind: "fragment",
    handler: async ({ ctx, body }) => {
      try {
        const r = service.preview(viewerOf(ctx), str(body.query));
        return html(await <PreviewResult t={ctx.t} {...r} />);
      } catch (err) {
        if (!(err instanceof Invalid)) throw err;
        return html(await <PreviewResult t={ctx.t} count={0} total={0} sample={[]} error={ctx.t(err.messageKey, err.params)} />);
      }
    },
  });

  registerImportRoutes(web, { service, perms, entities: deps.entities });
  registerMachineGroupsApi(web, { service, actions, perms, machinesDb: db, entities: deps.entities, runAction });
  return { service, actions, perms };
}
