/**
 * @module inventory
 * Routes of the inventory's pages: a machine's inventory with its tabs
 * (`/computers/:id/inventory?tab=…`), the inventory-only computers view (SPEC C3,
 * `/inventory`), the fleet-wide software search (`/inventory/software`), their CSV
 * exports, the answer to the "request inventory" button (through the import's service),
 * and the Inventory widget of the dashboard (G2). Declares `inventory.view`.
 *
 * One route answers both the full page and its fragments: an htmx request gets only the
 * element it targets (the `HX-Target` header names it: `#inventory-tabs`,
 * `#software-list`, `#inventory-history`, `#inventory-table`, `#software-results`); a
 * history restore or a plain request gets the page.
 */
import type { MessageKey } from "../../i18n/index.ts";
import { decodeCursor, encodeCursor } from "../../web/api.ts";
import type { Web } from "../../web/app.tsx";
import type { RequestContext } from "../../web/context.ts";
import { html } from "../../web/respond.ts";
import { InventoryComputersPage, InventoryTable, computersQs, type InventoryComputersQuery } from "../../../views/inventory/computers.tsx";
import { HistoryTab } from "../../../views/inventory/history-tab.tsx";
import { InventoryPage, InventoryTabs, RequestStatus, TABS, type Tab } from "../../../views/inventory/inventory-page.tsx";
import { HardwareTab, NetworkTab, StorageTab, SummaryTab } from "../../../views/inventory/parts-tabs.tsx";
import { GroupMachines, SoftwareResults, SoftwareSearchPage, searchQs } from "../../../views/inventory/software-search.tsx";
import { SoftwareList, SoftwareTab, softwareHref, type SoftwareQuery } from "../../../views/inventory/software-tab.tsx";
import { InventoryWidget } from "../../../views/inventory/widget.tsx";
import type { EntitiesService } from "../entities/service.ts";
import { formatForReader, formatSortable } from "../history/time.ts";
import type { MachinesService } from "../machines/service.ts";
import { viewerOf } from "../users/index.tsx";
import type { InventoryRequests } from "./request.ts";
import { csvDownload, pagedBatches } from "./export.ts";
import { ChangeKey, ComputerKey, GroupKey, HitKey, SoftwareKey, computerFilterOf, computersQueryOf, searchQueryOf, softwareFilterOf } from "./read-input.ts";
import { STALE_MS, computerKey, createInventoryReader, isSearchable, type Cursor, type GroupCursor, type HitCursor, type InventoryComputer, type InventoryReader, type SoftwareGroup, type SoftwareHit } from "./read.ts";

const str = (v: unknown) => (typeof v === "string" ? v : "");

/** The id of the element an htmx request will swap, or null for a full page. */
function fragmentOf(ctx: RequestContext, request: Request): string | null {
  if (!ctx.isHtmx || request.headers.get("hx-history-restore-request") === "true" || request.headers.get("hx-request-type") === "full") return null;
  const target = request.headers.get("hx-target") ?? "";
  return target.includes("#") ? target.slice(target.indexOf("#") + 1) : null;
}

/** A fragment whose address is pushed as the canonical one (defaults left out, not every form field). */
async function pushed(fragment: JSX.Element, url: string): Promise<Response> {
  return html(await fragment, 200, { "hx-push-url": url });
}

/** A cursor from the query string, or none when absent, stale or edited (the list starts over). */
function cursorOf<K>(decode: () => K | undefined): K | null {
  try {
    return decode() ?? null;
  } catch {
    return null;
  }
}

export interface InventoryPagesDeps {
  machines: MachinesService;
  entities: EntitiesService;
  /** The import's "request inventory" and the key it needs; without them, no request button. */
  requests?: { service: InventoryRequests; permission: string };
}

export function registerInventory(web: Web, deps: InventoryPagesDeps): { reader: InventoryReader; perms: { view: string } } {
  const { registry, access, db, clock } = web.deps;
  const tz = web.deps.timeZone ?? "UTC";
  const reader = createInventoryReader({ db, clock, entities: deps.entities, machines: deps.machines });
  const perms = { view: registry.permission({ key: "inventory.view", category: "perm.category.inventory", label: "perm.inventory.view" }) };

  registry.menuEntry({ id: "inventory", section: "menu.section.computers", label: "nav.inventory", href: "/inventory", permission: perms.view, order: 13 });
  registry.menuEntry({ id: "software-search", section: "menu.section.computers", label: "nav.softwareSearch", href: "/inventory/software", permission: perms.view, order: 14 });

  registry.widget({
    id: "inventory", title: "widget.inventory.title", permission: perms.view, size: { w: 1, h: 1 }, order: 2, live: { everyMs: 5000 },
    render: (c) => <InventoryWidget t={c.t} {...reader.freshness({ id: c.userId, login: "", isSuper: c.isSuper })} />,
  });

  const when = (ms: number, ctx: RequestContext) => formatForReader(ms, tz, ctx.lang);
  /** A stored code (source, section) in words when the catalogue has them, else as stored. */
  const label = (ctx: RequestContext, prefix: "inv.source" | "inv.section", code: string) => {
    const key = `${prefix}.${code}` as MessageKey;
    const text = ctx.t(key);
    return text === key ? code : text;
  };

  // ---- A machine's inventory -----------------------------------------------------------

  /** The software tab's list: search, sort and page from the query string. */
  const softwareList = (ctx: RequestContext, id: number, query: Record<string, string | undefined>) => {
    const q: SoftwareQuery = {
      q: str(query.q).slice(0, 100),
      sort: query.sort === "version" || query.sort === "publisher" ? query.sort : "name",
      dir: query.dir === "desc" ? "desc" : "asc",
    };
    const after = cursorOf(() => decodeCursor(SoftwareKey, str(query.after)));
    const found = reader.software(id, { search: q.q, sort: q.sort, desc: q.dir === "desc", after, limit: 500 });
    const next = found.next ? encodeCursor(found.next) : null;
    return { t: ctx.t, lang: ctx.lang, id, query: q, rows: found.items, total: reader.softwareCount(id), matched: found.matched, next, isFirst: !after, href: softwareHref(id, q, after ? { after: str(query.after) } : {}) };
  };

  /** The open tab's panel. */
  const renderTab = (ctx: RequestContext, id: number, tab: Tab, query: Record<string, string | undefined>): JSX.Element => {
    const lang = ctx.lang;
    switch (tab) {
      case "summary": {
        const header = reader.header(id)!;
        const memories = reader.memories(id);
        const hardware = reader.hardware(id);
        const disks = reader.disks(id);
        const memoryMb = hardware?.memoryMb ?? (memories.length ? memories.reduce((s, m) => s + (m.capacityMb ?? 0), 0) : null);
        const disksMb = disks.length ? disks.reduce((s, d) => s + (d.sizeMb ?? 0), 0) : null;
        return <SummaryTab t={ctx.t} data={{ lang, os: reader.os(id), hardware, bios: reader.bios(id), cpus: reader.cpus(id), memoryMb, disksMb, date: when(header.receivedAt, ctx), source: label(ctx, "inv.source", header.source), softwareCount: reader.softwareCount(id), users: reader.users(id) }} />;
      }
      case "hardware":
        return <HardwareTab t={ctx.t} lang={lang} cpus={reader.cpus(id)} memories={reader.memories(id)} bios={reader.bios(id)} disks={reader.disks(id)} />;
      case "network":
        return <NetworkTab t={ctx.t} lang={lang} networks={reader.networks(id)} />;
      case "storage":
        return <StorageTab t={ctx.t} lang={lang} partitions={reader.partitions(id)} />;
      case "software":
        return <SoftwareTab {...softwareList(ctx, id, query)} />;
      case "history": {
        const before = cursorOf(() => decodeCursor(ChangeKey, str(query.before)));
        const found = reader.changes(id, { before, limit: 50 });
        const rows = found.items.map((c) => ({ date: when(c.at, ctx), section: label(ctx, "inv.section", c.section), change: c.change, item: c.item, before: c.before, after: c.after }));
        return <HistoryTab t={ctx.t} id={id} rows={rows} older={found.next ? encodeCursor(found.next) : null} isFirst={!before} />;
      }
    }
  };

  web.route({
    method: "GET", path: "/computers/:id/inventory", permission: perms.view, kind: "page",
    handler: async ({ ctx, params, query, request }) => {
      const m = reader.machine(viewerOf(ctx), Number(params.id));
      const tab: Tab = TABS.find((x) => x === query.tab) ?? "summary";
      const header = reader.header(m.id);
      const fragment = header ? fragmentOf(ctx, request) : null;
      if (fragment === "software-list") {
        const list = softwareList(ctx, m.id, query);
        return pushed(<SoftwareList {...list} />, list.href);
      }
      const panel: JSX.Element = header ? renderTab(ctx, m.id, tab, query) : "";
      if (fragment === "inventory-history") return html(await panel);
      if (fragment === "inventory-tabs") return html(await <InventoryTabs t={ctx.t} id={m.id} tab={tab}>{panel}</InventoryTabs>);
      const last = header ? { date: when(header.receivedAt, ctx), source: label(ctx, "inv.source", header.source), isStale: header.receivedAt < clock.now() - STALE_MS } : null;
      return web.page(ctx, {
        title: ctx.t("inv.title", { name: m.hostname }), current: "/inventory",
        body: (
          <InventoryPage t={ctx.t} machine={{ id: m.id, hostname: m.hostname, online: m.online === 1, banned: m.banned === 1 }} last={last} canRequest={canRequest(ctx)} tab={tab}>
            {panel}
          </InventoryPage>
        ),
      });
    },
  });

  const canRequest = (ctx: RequestContext) => Boolean(deps.requests && access.can(ctx.session!.user, deps.requests.permission));

  // The request button's answer; an offline machine is a Conflict, shown in the flash area.
  if (deps.requests) {
    const { service, permission } = deps.requests;
    web.route({
      method: "POST", path: "/computers/:id/inventory/request", permission, kind: "fragment",
      handler: async ({ ctx, params }) => {
        const r = await service.request(viewerOf(ctx), Number(params.id), false, ctx.ip);
        const text = r.accepted ? ctx.t("inv.requested") : ctx.t("inv.requestRefused", { reason: r.reason ?? "" });
        return html(await <RequestStatus kind={r.accepted ? "success" : "error"} text={text} />);
      },
    });
  }

  // ---- The inventory-only computers view (C3) ------------------------------------------

  const c3Row = (ctx: RequestContext, c: InventoryComputer) => ({
    id: c.id, hostname: c.hostname, online: c.online, banned: c.banned, os: c.os, model: [c.manufacturer, c.model].filter(Boolean).join(" "), serial: c.serial,
    entity: c.entity, user: c.lastUser, date: when(c.inventoriedAt, ctx), isStale: c.inventoriedAt < clock.now() - STALE_MS,
  });

  web.route({
    method: "GET", path: "/inventory", permission: perms.view, kind: "page",
    handler: async ({ ctx, query, request }) => {
      const viewer = viewerOf(ctx);
      const q: InventoryComputersQuery = computersQueryOf(query);
      const filter = computerFilterOf(q);
      const after = cursorOf(() => decodeCursor(ComputerKey, str(query.after)));
      const page = reader.computers(viewer, filter, { after, limit: 50 });
      const f = reader.freshness(viewer);
      const props = {
        t: ctx.t, query: q, isFirst: !after, counts: { total: f.fresh + f.stale, stale: f.stale },
        next: page.next ? encodeCursor(page.next) : null, rows: page.items.map((c) => c3Row(ctx, c)),
      };
      if (fragmentOf(ctx, request) === "inventory-table") return pushed(<InventoryTable {...props} />, `/inventory${computersQs(q, after ? { after: str(query.after) } : {})}`);
      const entities = deps.entities.visibleTree(viewer).map((e) => ({ value: String(e.id), label: e.path }));
      return web.page(ctx, { title: ctx.t("invc.title"), current: "/inventory", body: <InventoryComputersPage {...props} entities={entities} /> });
    },
  });

  web.route({
    method: "GET", path: "/inventory/export.csv", permission: perms.view, kind: "stream",
    handler: ({ ctx, query }) => {
      const viewer = viewerOf(ctx);
      const filter = computerFilterOf(computersQueryOf(query));
      const t = ctx.t;
      const header = [t("invc.col.name"), t("invc.col.state"), t("invc.col.os"), t("invc.col.manufacturer"), t("invc.col.model"), t("invc.col.serial"), t("invc.col.entity"), t("invc.col.user"), t("invc.col.date"), t("invc.col.source")];
      const batches = pagedBatches<InventoryComputer, Cursor>(
        (after) => {
          const page = reader.computers(viewer, filter, { after, limit: 500 });
          return { items: page.items, next: page.next ? computerKey(page.items.at(-1)!, filter.sort) : null };
        },
        (c) => [c.hostname, c.banned ? t("computers.banned") : c.online ? t("computers.online") : t("computers.offline"), c.os, c.manufacturer, c.model, c.serial, c.entity, c.lastUser, formatSortable(c.inventoriedAt, tz), label(ctx, "inv.source", c.source)],
      );
      return csvDownload("inventory", header, batches, { now: clock.now(), timeZone: tz });
    },
  });

  // ---- Software across the fleet -------------------------------------------------------

  web.route({
    method: "GET", path: "/inventory/software", permission: perms.view, kind: "page",
    handler: async ({ ctx, query, request }) => {
      const viewer = viewerOf(ctx);
      const q = searchQueryOf(query);
      const filter = softwareFilterOf(q);
      const searchable = isSearchable(filter);
      let groups: ReturnType<InventoryReader["softwareGroups"]>["items"] = [];
      let hits: ReturnType<InventoryReader["softwareHits"]>["items"] = [];
      let next: string | null = null;
      let isFirst = true;
      if (searchable && q.view === "groups") {
        const after = cursorOf(() => decodeCursor(GroupKey, str(query.after)));
        const found = reader.softwareGroups(viewer, filter, { after, limit: 100 });
        [groups, next, isFirst] = [found.items, found.next ? encodeCursor(found.next) : null, !after];
      } else if (searchable) {
        const after = cursorOf(() => decodeCursor(HitKey, str(query.after)));
        const found = reader.softwareHits(viewer, filter, { after, limit: 100 });
        [hits, next, isFirst] = [found.items, found.next ? encodeCursor(found.next) : null, !after];
      }
      const props = { t: ctx.t, query: q, isSearchable: searchable, groups, hits, next, isFirst };
      if (fragmentOf(ctx, request) === "software-results") return pushed(<SoftwareResults {...props} />, `/inventory/software${searchQs(q, isFirst ? {} : { after: str(query.after) })}`);
      return web.page(ctx, { title: ctx.t("sws.title"), current: "/inventory/software", body: <SoftwareSearchPage {...props} /> });
    },
  });

  web.route({
    method: "GET", path: "/inventory/software/group", permission: perms.view, kind: "fragment",
    handler: async ({ ctx, query }) => {
      const filter = softwareFilterOf(searchQueryOf(query));
      const cap = 200;
      const found = reader.softwareHits(viewerOf(ctx), filter, { exact: { name: str(query.gname), version: str(query.gversion) }, limit: cap });
      return html(await <GroupMachines t={ctx.t} hits={found.items} isCapped={found.next !== null} />);
    },
  });

  web.route({
    method: "GET", path: "/inventory/software/export.csv", permission: perms.view, kind: "stream",
    handler: ({ ctx, query }) => {
      const viewer = viewerOf(ctx);
      const q = searchQueryOf(query);
      const filter = softwareFilterOf(q);
      const t = ctx.t;
      const at = { now: clock.now(), timeZone: tz };
      if (!isSearchable(filter)) return csvDownload("software", [t("sws.col.software")], () => [], at);
      if (q.view === "groups") {
        const header = [t("sws.col.software"), t("sws.col.version"), t("sws.col.publisher"), t("sws.col.machines")];
        return csvDownload("software", header, pagedBatches<SoftwareGroup, GroupCursor>((after) => reader.softwareGroups(viewer, filter, { after, limit: 1000 }), (g) => [g.name, g.version, g.publisher, String(g.machines)]), at);
      }
      const header = [t("sws.col.machine"), t("sws.col.entity"), t("sws.col.software"), t("sws.col.version"), t("sws.col.publisher")];
      return csvDownload("software", header, pagedBatches<SoftwareHit, HitCursor>((after) => reader.softwareHits(viewer, filter, { after, limit: 1000 }), (h) => [h.hostname, h.entity, h.name, h.version, h.publisher]), at);
    },
  });

  return { reader, perms };
}
