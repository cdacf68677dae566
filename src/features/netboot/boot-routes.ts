/**
 * @module netboot/boot-routes
 * What boot clients fetch over plain HTTP (server.ts keeps /boot/ on HTTP when HTTPS is on:
 * Debian's iPXE has no HTTPS): `/boot/menu.ipxe` (without `mac`: the first script, which
 * chains back with the client's identity; with it: the machine's menu, or the registration
 * menu for an unknown machine), `/boot/register.ipxe`, `/boot/register` (creates the
 * machine, answers its menu) and `/boot/files/<name>` (files of data/tftp, for iPXE's
 * faster HTTP). No session: these are public, read the database only through the netboot
 * and machines services, and every request lands in the boot log.
 */
import { statSync } from "node:fs";
import { realpathSync } from "node:fs";
import type { EntitiesService } from "../entities/service.ts";
import { AppError, Invalid } from "../../errors.ts";
import { translator } from "../../i18n/index.ts";
import type { Web } from "../../web/app.tsx";
import { resolveInRoot, TftpError } from "../../net/tftp/server.ts";
import { machineMenu, registrationMenu, startScript, type MenuService } from "./menu.ts";
import type { NetbootService } from "./service.ts";

const text = (body: string, status = 200) => new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });
const str = (v: unknown, max = 100) => (typeof v === "string" ? v.slice(0, max) : "");

/** Machine groups offered at registration; the groups feature provides them when it lands. */
export type BootGroups = () => { id: number; label: string }[];

export function registerBootRoutes(web: Web, deps: { netboot: NetbootService; entities: EntitiesService; groups?: BootGroups; addToGroup?: (machineId: number, groupId: number, who: string, ip: string) => void }): void {
  const { netboot } = deps;
  // Boot clients have no language: the appliance's default (French) is used.
  const t = translator("fr");

  const servicesFor = (): MenuService[] =>
    netboot.menuServices().map((s) => ({ code: s.code, label: s.label || t(`netboot.service.${s.code}` as never) || s.code, script: s.script }));

  const baseOf = (request: Request) => new URL(request.url).origin;

  function menuFor(request: Request, q: Record<string, string | undefined>, ip: string): string {
    const mac = str(q.mac, 40);
    const uuid = str(q.uuid, 40);
    const arch = str(q.arch, 20);
    const base = baseOf(request);
    const machine = netboot.identify(mac, uuid);
    if (!machine) {
      netboot.log({ kind: "menu", mac, ip, arch, what: "registration", outcome: "unknown", detail: uuid, machine_id: null });
      return registration(base, q);
    }
    const menu = netboot.menuOf(machine.id);
    const woke = netboot.woke(mac, menu);
    netboot.log({ kind: "menu", mac, ip, arch, what: woke ? "menu-wake" : "menu", outcome: "ok", detail: machine.hostname, machine_id: machine.id });
    web.deps.recorder.record({ module: "imaging", action: "netboot.history.menuServed", params: { name: machine.hostname, mac }, criterion: "machine", who: machine.hostname, sourceIp: ip, target: { type: "machine", id: machine.id, name: machine.hostname } });
    return machineMenu({
      base, title: `Medulla - ${machine.hostname}`, services: servicesFor(), woke,
      settings: { defaultService: menu.default_service, wolService: menu.wol_service, timeoutSeconds: menu.timeout_seconds, hidden: menu.hidden === 1 },
      texts: { choose: t("netboot.ipxe.choose"), woke: t("netboot.ipxe.woke"), failed: t("netboot.ipxe.failed") },
    });
  }

  function registration(base: string, q: Record<string, string | undefined>): string {
    const root = { id: 0, login: "pxe", isSuper: true };
    return registrationMenu({
      base, title: t("netboot.ipxe.unknown", { mac: str(q.mac, 40) }), mac: str(q.mac, 40), uuid: str(q.uuid, 40), arch: str(q.arch, 20), platform: str(q.platform, 20),
      entities: deps.entities.visibleTree(root).slice(0, 200).map((e) => ({ id: e.id, label: e.path })),
      groups: (deps.groups?.() ?? []).slice(0, 200),
      services: servicesFor(),
      texts: { register: t("netboot.ipxe.register"), name: t("netboot.ipxe.name"), entity: t("netboot.ipxe.entity"), group: t("netboot.ipxe.group"), noGroup: t("netboot.ipxe.noGroup"), failed: t("netboot.ipxe.failed") },
    });
  }

  web.route({
    method: "GET", path: "/boot/menu.ipxe", permission: "public", kind: "api",
    handler: ({ request, query, ctx }) => {
      if (!str(query.mac)) {
        netboot.log({ kind: "menu", mac: "", ip: ctx.ip, arch: "", what: "start", outcome: "ok", detail: "", machine_id: null });
        return text(startScript(baseOf(request)));
      }
      return text(menuFor(request, query, ctx.ip));
    },
  });

  web.route({
    method: "GET", path: "/boot/register.ipxe", permission: "public", kind: "api",
    handler: ({ request, query, ctx }) => {
      netboot.log({ kind: "menu", mac: str(query.mac, 40), ip: ctx.ip, arch: str(query.arch, 20), what: "registration", outcome: "ok", detail: "", machine_id: null });
      return text(registration(baseOf(request), query));
    },
  });

  web.route({
    method: "GET", path: "/boot/register", permission: "public", kind: "api",
    handler: ({ request, query, ctx }) => {
      const mac = str(query.mac, 40);
      const entityId = /^\d{1,9}$/.test(str(query.entity)) ? Number(query.entity) : 1;
      const known = new Set(deps.entities.tree().map((e) => e.id));
      try {
        const { machine, created } = netboot.register({ mac, uuid: str(query.uuid, 40), name: str(query.name, 63), entityId: known.has(entityId) ? entityId : 1, arch: str(query.arch, 20), ip: ctx.ip });
        const group = /^\d{1,9}$/.test(str(query.group)) ? Number(query.group) : 0;
        if (group > 0) {
          // A group that went away or is not static leaves the machine registered, outside it.
          try {
            deps.addToGroup?.(machine.id, group, machine.hostname, ctx.ip);
          } catch (err) {
            web.deps.log.warn({ err, group, machine: machine.id }, "netboot registration: could not join the group");
          }
        }
        netboot.log({ kind: "register", mac, ip: ctx.ip, arch: str(query.arch, 20), what: machine.hostname, outcome: created ? "created" : "updated", detail: "", machine_id: machine.id });
      } catch (err) {
        const detail = err instanceof Invalid ? Object.keys(err.fields ?? {}).join(",") : (err as Error).message;
        netboot.log({ kind: "register", mac, ip: ctx.ip, arch: str(query.arch, 20), what: str(query.name, 63), outcome: "refused", detail, machine_id: null });
        if (err instanceof AppError) return text(`#!ipxe\necho ${t("netboot.ipxe.failed")}\nprompt --timeout 5000\nchain ${baseOf(request)}/boot/register.ipxe?mac=${encodeURIComponent(mac)}\n`);
        throw err;
      }
      return text(menuFor(request, query, ctx.ip));
    },
  });

  web.route({
    method: "GET", path: "/boot/files/:name", permission: "public", kind: "api",
    handler: ({ params, ctx }) => {
      const root = netboot.env.tftpRoot;
      const name = str(params.name, 255);
      if (!root) return text("not found\n", 404);
      try {
        const path = resolveInRoot(realpathSync(root), decodeURIComponent(name));
        netboot.log({ kind: "file", mac: "", ip: ctx.ip, arch: "", what: name, outcome: "ok", detail: String(statSync(path).size), machine_id: null });
        return new Response(Bun.file(path), { headers: { "content-type": "application/octet-stream", "cache-control": "no-store" } });
      } catch (err) {
        netboot.log({ kind: "file", mac: "", ip: ctx.ip, arch: "", what: name, outcome: "refused", detail: (err as Error).message, machine_id: null });
        return text("not found\n", err instanceof TftpError && err.code === 2 ? 403 : 404);
      }
    },
  });
}
