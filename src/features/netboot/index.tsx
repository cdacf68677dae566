/**
 * @module netboot
 * Network boot's pages and wiring (SPEC I3, I4, I7 network part, I10): boot services,
 * the default boot menu, the network-boot configuration, the live log of boot requests,
 * and the public /boot/ routes (./boot-routes.ts). The UDP services themselves (TFTP,
 * proxyDHCP) are started by server.ts through ./runtime.ts.
 */
import { AppError, Invalid } from "../../errors.ts";
import { translator } from "../../i18n/index.ts";
import type { Web } from "../../web/app.tsx";
import type { RequestContext } from "../../web/context.ts";
import { redirect } from "../../web/respond.ts";
import { LogPage, LogRows, MenuPage, ServiceEditPage, ServicesPage, SettingsPage, type LogRowView, type ServiceView } from "../../../views/netboot/pages.tsx";
import type { EntitiesService } from "../entities/service.ts";
import type { ServiceStatus } from "../health/index.ts";
import { formatForReader } from "../history/time.ts";
import type { MachinesService } from "../machines/service.ts";
import { viewerOf } from "../users/index.tsx";
import { registerBootRoutes, type BootGroups } from "./boot-routes.ts";
import { machineMenu } from "./menu.ts";
import { createNetbootService, IPXE_FILES, type BootEnvironment, type BootRequestRow, type BootServiceRow, type NetbootService, type RecentWake } from "./service.ts";

const str = (v: unknown) => (typeof v === "string" ? v : "");

export interface NetbootDeps {
  machines: MachinesService;
  entities: EntitiesService;
  services: Map<string, ServiceStatus>;
  env?: BootEnvironment;
  /** Wake-on-LAN records (the groups/WOL feature): "did the appliance wake this MAC lately?" */
  recentWake?: RecentWake;
  groups?: BootGroups;
  /** Puts a registering machine in the static group it picked (the machine-groups feature). */
  addToGroup?: (machineId: number, groupId: number, who: string, ip: string) => void;
  /** Called after settings change so that the running proxyDHCP follows them (server.ts sets it). */
  onSettingsChanged?: () => Promise<void> | void;
}

export interface NetbootFeature {
  service: NetbootService;
  /** server.ts installs how to apply new settings to the running services. */
  setApply(apply: () => Promise<void>): void;
}

const FILE_LABELS: Record<(typeof IPXE_FILES)[number], Parameters<ReturnType<typeof translator>>[0]> = {
  "undionly.kpxe": "netboot.file.bios",
  "snponly.efi": "netboot.file.efi",
  "ipxe.efi": "netboot.file.efiFull",
  "ipxe.pxe": "netboot.file.pxe",
  "ipxe.lkrn": "netboot.file.lkrn",
};

export function registerNetboot(web: Web, deps: NetbootDeps): NetbootFeature {
  const { registry, access, hub, clock, db, recorder } = web.deps;
  const tz = web.deps.timeZone ?? "UTC";
  const env: BootEnvironment = deps.env ?? { tftpRoot: null, httpPort: 8080, tftpPort: 69, proxyDhcp: null, bootAddress: null };
  const netboot = createNetbootService({ db, clock, recorder, machines: deps.machines, env, recentWake: deps.recentWake });
  let apply: () => Promise<void> = async () => {};

  const p = (key: string, label: Parameters<typeof registry.permission>[0]["label"]) => registry.permission({ key, category: "perm.category.imaging", label });
  const perms = { view: p("netboot.view", "perm.netboot.view"), edit: p("netboot.edit", "perm.netboot.edit"), settings: p("netboot.settings", "perm.netboot.settings") };

  registry.menuEntry({ id: "netboot-services", section: "menu.section.imaging", label: "nav.netboot.services", href: "/netboot/services", permission: perms.view, order: 60 });
  registry.menuEntry({ id: "netboot-menu", section: "menu.section.imaging", label: "nav.netboot.menu", href: "/netboot/menu", permission: perms.view, order: 61 });
  registry.menuEntry({ id: "netboot-log", section: "menu.section.imaging", label: "nav.netboot.log", href: "/netboot/log", permission: perms.view, order: 62 });
  registry.menuEntry({ id: "netboot-settings", section: "menu.section.imaging", label: "nav.netboot.settings", href: "/netboot/settings", permission: perms.settings, order: 63 });

  registerBootRoutes(web, { netboot, entities: deps.entities, groups: deps.groups, addToGroup: deps.addToGroup });

  const labelOf = (s: BootServiceRow, t: ReturnType<typeof translator>) => s.label || (s.builtin ? t(`netboot.service.${s.code}` as never) : s.code);
  const serviceView = (s: BootServiceRow, t: ReturnType<typeof translator>): ServiceView => ({
    id: s.id, code: s.code, label: labelOf(s, t), description: s.description, script: s.script, builtin: s.builtin === 1, enabled: s.enabled === 1, position: s.position,
    missing: netboot.available(s) ? "" : s.requires.split("|").join(" / "),
  });
  const failure = (ctx: RequestContext, err: unknown): { status: number; error: string; errors?: Record<string, never> } => {
    if (err instanceof Invalid) return { status: 422, error: ctx.t("error.invalid"), errors: err.fields as never };
    if (err instanceof AppError && err.status < 500 && err.status !== 403) return { status: err.status, error: ctx.t(err.messageKey, err.params) };
    throw err;
  };

  // ---- boot services (I3) ----
  const servicesPage = (ctx: RequestContext, extra: { notice?: string; status?: number; error?: string; errors?: Record<string, never>; values?: { label: string; description: string; script: string; position: string } } = {}) =>
    web.page(ctx, {
      title: ctx.t("netboot.services.title"), current: "/netboot/services", status: extra.status,
      body: <ServicesPage t={ctx.t} csrf={ctx.session!.csrf} services={netboot.services().map((s) => serviceView(s, ctx.t))} canEdit={access.can(ctx.session!.user, perms.edit)} {...extra} />,
    });
  const formValues = (body: Record<string, unknown>) => ({ label: str(body.label), description: str(body.description), script: str(body.script), position: str(body.position) });

  web.route({
    method: "GET", path: "/netboot/services", permission: perms.view, kind: "page",
    handler: ({ ctx, query }) => {
      const notices: Record<string, string> = { saved: ctx.t("netboot.services.saved"), created: ctx.t("netboot.services.created"), deleted: ctx.t("netboot.services.deleted") };
      return servicesPage(ctx, { notice: notices[str(query.done)] });
    },
  });
  web.route({
    method: "POST", path: "/netboot/services", permission: perms.edit, kind: "action",
    handler: ({ ctx, body }) => {
      try {
        netboot.saveService(viewerOf(ctx), null, body as never, ctx.ip);
      } catch (err) {
        return servicesPage(ctx, { ...failure(ctx, err), values: formValues(body) });
      }
      return redirect(ctx, "/netboot/services?done=created");
    },
  });
  web.route({
    method: "GET", path: "/netboot/services/:id", permission: perms.edit, kind: "page",
    handler: ({ ctx, params }) => {
      const s = netboot.service(Number(params.id) || 0);
      return web.page(ctx, { title: ctx.t("netboot.services.title"), current: "/netboot/services", body: <ServiceEditPage t={ctx.t} csrf={ctx.session!.csrf} service={serviceView(s, ctx.t)} /> });
    },
  });
  web.route({
    method: "POST", path: "/netboot/services/:id", permission: perms.edit, kind: "action",
    handler: ({ ctx, params, body }) => {
      const id = Number(params.id) || 0;
      try {
        netboot.saveService(viewerOf(ctx), id, body as never, ctx.ip);
      } catch (err) {
        const f = failure(ctx, err);
        const s = netboot.service(id);
        return web.page(ctx, { title: ctx.t("netboot.services.title"), current: "/netboot/services", status: f.status, body: <ServiceEditPage t={ctx.t} csrf={ctx.session!.csrf} service={serviceView(s, ctx.t)} error={f.error} errors={f.errors} values={formValues(body)} /> });
      }
      return redirect(ctx, "/netboot/services?done=saved");
    },
  });
  for (const action of ["enable", "disable"] as const) {
    web.route({
      method: "POST", path: `/netboot/services/:id/${action}`, permission: perms.edit, kind: "action",
      handler: ({ ctx, params }) => {
        netboot.setEnabled(viewerOf(ctx), Number(params.id) || 0, action === "enable", ctx.ip);
        return redirect(ctx, "/netboot/services?done=saved");
      },
    });
  }
  web.route({
    method: "POST", path: "/netboot/services/:id/delete", permission: perms.edit, kind: "action",
    handler: ({ ctx, params }) => {
      try {
        netboot.removeService(viewerOf(ctx), Number(params.id) || 0, ctx.ip);
      } catch (err) {
        return servicesPage(ctx, failure(ctx, err));
      }
      return redirect(ctx, "/netboot/services?done=deleted");
    },
  });

  // ---- default boot menu (I4), and a machine's own menu ----
  type MenuTarget = { id: number; hostname: string } | null;
  const menuPage = (ctx: RequestContext, machine: MenuTarget, extra: { notice?: string; status?: number; error?: string; errors?: Record<string, never>; values?: Record<string, unknown> } = {}) => {
    const own = machine ? netboot.ownMenu(machine.id) : null;
    const m = machine ? (own ?? netboot.defaultMenu()) : netboot.defaultMenu();
    const services = netboot.services();
    const values = extra.values
      ? { defaultService: str(extra.values.defaultService), wolService: str(extra.values.wolService), timeout: str(extra.values.timeout), wolWindow: str(extra.values.wolWindow), hidden: extra.values.hidden === "on" }
      : { defaultService: m.default_service, wolService: m.wol_service, timeout: String(m.timeout_seconds), wolWindow: String(m.wol_window_minutes), hidden: m.hidden === 1 };
    const t = ctx.t;
    const preview = machineMenu({
      base: netboot.settings().bootUrl ?? "http://medulla", title: `Medulla - ${machine?.hostname ?? "PC-001"}`, woke: false,
      services: netboot.menuServices().map((s) => ({ code: s.code, label: labelOf(s, translator("fr")), script: s.script })),
      settings: { defaultService: m.default_service, wolService: m.wol_service, timeoutSeconds: m.timeout_seconds, hidden: m.hidden === 1 },
      texts: { choose: t("netboot.ipxe.choose"), woke: t("netboot.ipxe.woke"), failed: t("netboot.ipxe.failed") },
    });
    const base = machine ? `/netboot/machines/${machine.id}/menu` : "/netboot/menu";
    return web.page(ctx, {
      title: machine ? t("netboot.machineMenu.title", { name: machine.hostname }) : t("netboot.menu.title"), current: "/netboot/menu", status: extra.status,
      body: (
        <MenuPage t={t} csrf={ctx.session!.csrf} canEdit={access.can(ctx.session!.user, perms.edit)} preview={preview} values={values} notice={extra.notice} error={extra.error} errors={extra.errors}
          options={services.filter((s) => s.enabled === 1).map((s) => ({ value: s.code, label: labelOf(s, t) }))}
          title={machine ? t("netboot.machineMenu.title", { name: machine.hostname }) : undefined}
          intro={machine ? t(own ? "netboot.machineMenu.own" : "netboot.machineMenu.default") : undefined}
          action={base} dropAction={machine && own ? `${base}/drop` : undefined} />
      ),
    });
  };
  const machineFor = (ctx: RequestContext, id: string): { id: number; hostname: string } => {
    const m = deps.machines.get(viewerOf(ctx), Number(id) || 0);
    return { id: m.id, hostname: m.hostname };
  };
  web.route({
    method: "GET", path: "/netboot/menu", permission: perms.view, kind: "page",
    handler: ({ ctx, query }) => menuPage(ctx, null, { notice: query.done === "saved" ? ctx.t("netboot.menu.saved") : undefined }),
  });
  web.route({
    method: "POST", path: "/netboot/menu", permission: perms.edit, kind: "action",
    handler: ({ ctx, body }) => {
      try {
        netboot.saveDefaultMenu(viewerOf(ctx), body as never, ctx.ip);
      } catch (err) {
        return menuPage(ctx, null, { ...failure(ctx, err), values: body });
      }
      return redirect(ctx, "/netboot/menu?done=saved");
    },
  });
  web.route({
    method: "GET", path: "/netboot/machines/:id/menu", permission: perms.view, kind: "page",
    handler: ({ ctx, params, query }) => {
      const notices: Record<string, string> = { saved: ctx.t("netboot.machineMenu.saved"), dropped: ctx.t("netboot.machineMenu.dropped") };
      return menuPage(ctx, machineFor(ctx, params.id!), { notice: notices[str(query.done)] });
    },
  });
  web.route({
    method: "POST", path: "/netboot/machines/:id/menu", permission: perms.edit, kind: "action",
    handler: ({ ctx, params, body }) => {
      const machine = machineFor(ctx, params.id!);
      try {
        netboot.saveMenu(viewerOf(ctx), machine, body as never, ctx.ip);
      } catch (err) {
        return menuPage(ctx, machine, { ...failure(ctx, err), values: body });
      }
      return redirect(ctx, `/netboot/machines/${machine.id}/menu?done=saved`);
    },
  });
  web.route({
    method: "POST", path: "/netboot/machines/:id/menu/drop", permission: perms.edit, kind: "action",
    handler: ({ ctx, params }) => {
      const machine = machineFor(ctx, params.id!);
      netboot.dropMenu(viewerOf(ctx), machine, ctx.ip);
      return redirect(ctx, `/netboot/machines/${machine.id}/menu?done=dropped`);
    },
  });

  // ---- configuration (I7, network part) ----
  const settingsPage = (ctx: RequestContext, extra: { notice?: string; status?: number; error?: string; errors?: Record<string, never>; values?: { serverAddress: string; nextServer: string } } = {}) => {
    const s = netboot.settings();
    const t = ctx.t;
    const state = (name: string) => {
      const v = deps.services.get(name) ?? "off";
      return t(v === "running" ? "netboot.settings.running" : v === "failed" ? "netboot.settings.failed" : "netboot.settings.off");
    };
    return web.page(ctx, {
      title: t("netboot.settings.title"), current: "/netboot/settings", status: extra.status,
      body: (
        <SettingsPage t={t} csrf={ctx.session!.csrf} canEdit={access.can(ctx.session!.user, perms.settings)} {...extra}
          view={{
            serverAddress: s.serverAddress, nextServer: s.nextServer, proxyDhcp: s.proxyDhcp, guess: s.address, lockedAddress: s.locked.serverAddress, lockedProxy: s.locked.proxyDhcp,
            status: [{ name: "TFTP", state: state("tftp") }, { name: "proxyDHCP", state: state("proxydhcp") }, { name: "HTTP", state: state("http") }],
            tftpPort: env.tftpPort, bootUrl: s.bootUrl, root: env.tftpRoot,
            files: IPXE_FILES.map((name) => ({ name, label: t(FILE_LABELS[name]), present: netboot.fileExists(name) })),
          }} />
      ),
    });
  };
  web.route({
    method: "GET", path: "/netboot/settings", permission: perms.settings, kind: "page",
    handler: ({ ctx, query }) => settingsPage(ctx, { notice: query.done === "saved" ? ctx.t("netboot.settings.saved") : undefined }),
  });
  web.route({
    method: "POST", path: "/netboot/settings", permission: perms.settings, kind: "action",
    handler: async ({ ctx, body }) => {
      try {
        netboot.saveSettings(viewerOf(ctx), body as never, ctx.ip);
      } catch (err) {
        return settingsPage(ctx, { ...failure(ctx, err), values: { serverAddress: str(body.serverAddress), nextServer: str(body.nextServer) } });
      }
      await apply();
      return redirect(ctx, "/netboot/settings?done=saved");
    },
  });

  // ---- live log of boot requests ----
  // Kinds, outcomes and menu names are stored as codes and shown in the reader's language.
  const label = (t: ReturnType<typeof translator>, key: string, raw: string) => {
    const text = t(key as never);
    return text === key ? raw : text;
  };
  const rowsFor = (rows: BootRequestRow[], lang: "fr" | "en"): LogRowView[] => {
    const t = translator(lang);
    return rows.map((r) => ({
      id: r.id, at: formatForReader(r.at, tz, lang), kind: label(t, `netboot.kind.${r.kind}`, r.kind), client: [r.hostname || "", r.mac, r.ip].filter(Boolean).join(" · "),
      menuHref: r.machine_id !== null && r.hostname ? `/netboot/machines/${r.machine_id}/menu` : undefined, menuLabel: r.hostname ? t("netboot.log.menuLink", { name: r.hostname }) : undefined,
      what: [r.kind === "menu" ? label(t, `netboot.what.${r.what}`, r.what) : r.what, r.arch].filter(Boolean).join(" · "),
      outcome: label(t, `netboot.outcome.${r.outcome}`, r.outcome), rawOutcome: r.outcome, detail: r.detail,
    }));
  };
  web.route({
    method: "GET", path: "/netboot/log", permission: perms.view, kind: "page",
    handler: ({ ctx }) => web.page(ctx, { title: ctx.t("netboot.log.title"), current: "/netboot/log", body: <LogPage t={ctx.t} rows={rowsFor(netboot.recentRequests(100), ctx.lang)} /> }),
  });
  // Bursts (a room booting) are coalesced: one refresh of the rows at most every 500 ms.
  let pending: ReturnType<typeof setTimeout> | null = null;
  netboot.onLog(() => {
    if (pending || hub.size === 0) return;
    pending = setTimeout(() => {
      pending = null;
      const rows = netboot.recentRequests(100);
      void hub.publish("netboot-log", async (sub) => (access.can(sub.user, perms.view) ? await <LogRows t={translator(sub.lang)} rows={rowsFor(rows, sub.lang)} /> : null));
    }, 500);
  });

  return {
    service: netboot,
    setApply(fn) {
      apply = fn;
    },
  };
}
