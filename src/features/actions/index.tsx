/**
 * @module actions
 * Quick actions (SPEC C12), built-in system actions on a machine (C2, X4), Wake-on-LAN
 * (C8) and the remote shell (X5): permissions, menu entries, pages, the JSON API, the
 * machine page's "System actions" panel, live result rows, and the scheduled wake job.
 *
 * For other features: `runOnMachines(viewer, quickActionId, machineIds, ip)` runs a saved
 * quick action on a list of machines (what "run on a group" calls), `wol.wake(...)` wakes
 * machines, and `wol.recentWake(mac, withinMs)` tells network boot about a recent wake.
 */
import { Type } from "@sinclair/typebox";
import type { Database } from "bun:sqlite";
import { AppError, Invalid, NotFound } from "../../errors.ts";
import { translator, type MessageKey, type T } from "../../i18n/index.ts";
import type { Logger } from "../../log.ts";
import type { AgentChannel } from "../../protocol/channel.ts";
import type { Web } from "../../web/app.tsx";
import { SESSION_COOKIE } from "../../web/app.tsx";
import type { RequestContext } from "../../web/context.ts";
import { html, redirect } from "../../web/respond.ts";
import { QuickActionForm, QuickActionsPage, ResultRow, RunPage, RunPickPage, RunsPage, type ResultView } from "../../../views/actions/quick.tsx";
import { SessionsPage, ShellPage } from "../../../views/actions/shell.tsx";
import { ConfigEditor, DiskView, NetstatView, ProcessesView, SystemAlert, SystemError, SystemNotice, SystemPanel } from "../../../views/actions/system.tsx";
import { WolPage } from "../../../views/actions/wol.tsx";
import type { Viewer } from "../entities/service.ts";
import { formatForReader } from "../history/time.ts";
import type { MachinesService } from "../machines/service.ts";
import { viewerOf } from "../users/index.tsx";
import { createQuickActions, type QuickActionRow } from "./quick.ts";
import { createRunner, type ResultRow as ResultDbRow } from "./runner.ts";
import { createShellBridge } from "./shell.ts";
import { createSystemActions, type SystemAction } from "./system.ts";
import { ANSWER_WINDOW_MS, createWol } from "./wol.ts";

const str = (v: unknown) => (typeof v === "string" ? v : "");
const ids = (v: unknown) => [v].flat().map((x) => Number(x)).filter((n) => Number.isSafeInteger(n) && n > 0);

export interface MachinePanelContext {
  ctx: RequestContext;
  machine: { id: number; hostname: string; online: boolean; os: string };
}

export function registerActions(web: Web, deps: { db: Database; machines: MachinesService; channel: AgentChannel; log: Logger; perRelay?: number }) {
  const { db, machines, channel } = deps;
  const { registry, access, hub, recorder, clock, scheduler } = web.deps;
  const tz = web.deps.timeZone ?? "UTC";
  const p = (key: string, label: MessageKey) => registry.permission({ key, category: "perm.category.actions", label });
  const perms = {
    view: p("quickactions.view", "perm.qa.view"),
    edit: p("quickactions.edit", "perm.qa.edit"),
    run: p("quickactions.run", "perm.qa.run"),
    diagnose: p("machines.system", "perm.sys.diagnose"),
    power: p("machines.power", "perm.sys.power"),
    config: p("machines.config", "perm.sys.config"),
    shell: p("machines.shell", "perm.shell"),
    wolView: p("wol.view", "perm.wol.view"),
    wake: p("wol.wake", "perm.wol.wake"),
  };
  registry.menuEntry({ id: "quick-actions", section: "menu.section.computers", label: "nav.quickActions", href: "/quick-actions", permission: perms.view, order: 14 });
  registry.menuEntry({ id: "quick-action-runs", section: "menu.section.computers", label: "nav.actionRuns", href: "/quick-actions/runs", permission: perms.view, order: 15 });
  registry.menuEntry({ id: "wol", section: "menu.section.computers", label: "nav.wol", href: "/wol", permission: perms.wolView, order: 16 });
  registry.menuEntry({ id: "shell-sessions", section: "menu.section.computers", label: "nav.shellSessions", href: "/shell-sessions", permission: perms.shell, order: 17 });

  const quick = createQuickActions({ db, clock, recorder });
  const resultView = (r: ResultDbRow): ResultView => ({
    runId: r.run_id, machineId: r.machine_id, hostname: r.hostname, status: r.status, exitCode: r.exit_code, output: r.output, truncated: r.truncated === 1, durationMs: r.duration_ms, error: r.error,
  });
  const runner = createRunner({
    db, clock, channel, machines, recorder, perRelay: deps.perRelay,
    onResult: (row) => {
      if (hub.size === 0) return;
      void hub.publish("swap", async (sub) => (access.can(sub.user, perms.view) ? await <ResultRow t={translator(sub.lang)} r={resultView(row)} /> : null));
    },
  });
  const system = createSystemActions({ machines, channel, recorder });
  const wol = createWol({ db, clock, channel, machines, recorder });
  const shell = createShellBridge({ db, clock, channel, machines, access, auth: web.deps.auth, recorder, log: deps.log, permission: perms.shell, cookieName: SESSION_COOKIE });

  // ---- scheduled wake (a durable job) ----
  scheduler.register("wol.wake", async (payload) => {
    const p = payload as { machineIds?: number[]; user?: string };
    await wol.wake(null, p.machineIds ?? [], "", `scheduler (${p.user ?? "?"})`);
  });

  const when = (ctx: RequestContext, ms: number | null) => (ms ? formatForReader(ms, tz, ctx.lang) : "—");

  // ---- quick actions: list, form, CRUD ----
  // A machine group's visible members, for "run a quick action" on a group (set by app.ts
  // once the machine-groups feature is registered).
  let groupSource: ((viewer: Viewer, groupId: number) => { name: string; machineIds: number[] } | null) | null = null;
  const groupOf = (ctx: RequestContext, raw: unknown) => {
    const id = typeof raw === "string" && /^\d{1,9}$/.test(raw) ? Number(raw) : 0;
    const g = id && groupSource ? groupSource(viewerOf(ctx), id) : null;
    return g ? { id, ...g } : null;
  };
  const listPage = (ctx: RequestContext, notice?: string, groupParam?: unknown) => {
    const viewer = viewerOf(ctx);
    const g = groupOf(ctx, groupParam);
    return web.page(ctx, {
      title: ctx.t("qa.title"), current: "/quick-actions",
      body: <QuickActionsPage t={ctx.t} csrf={ctx.session!.csrf} rows={quick.list()} canEdit={access.can(viewer, perms.edit)} canRun={access.can(viewer, perms.run)} notice={notice ?? (g ? ctx.t("qa.run.forGroup", { name: g.name, count: g.machineIds.length }) : undefined)} group={g ? { id: g.id, name: g.name, count: g.machineIds.length } : undefined} />,
    });
  };
  web.route({ method: "GET", path: "/quick-actions", permission: perms.view, kind: "page", handler: ({ ctx, query }) => listPage(ctx, query.saved ? ctx.t("qa.saved") : query.deleted ? ctx.t("qa.deleted") : undefined, query.group) });

  const formValues = (b: Record<string, unknown>) => ({ name: str(b.name), os: str(b.os), interpreter: str(b.interpreter), script: str(b.script), description: str(b.description), timeoutSeconds: str(b.timeoutSeconds) });
  const formPage = (ctx: RequestContext, id: number | null, values: Record<string, string>, errors?: Record<string, MessageKey>) =>
    web.page(ctx, { title: id ? ctx.t("qa.edit", { name: values.name ?? "" }) : ctx.t("qa.new"), current: "/quick-actions", status: errors ? 422 : 200, body: <QuickActionForm t={ctx.t} csrf={ctx.session!.csrf} id={id} values={values} errors={errors} /> });
  const rowValues = (q: QuickActionRow) => ({ name: q.name, os: q.os, interpreter: q.interpreter, script: q.script, description: q.description, timeoutSeconds: String(q.timeout_seconds) });

  web.route({ method: "GET", path: "/quick-actions/new", permission: perms.edit, kind: "page", handler: ({ ctx }) => formPage(ctx, null, { os: "linux", interpreter: "shell", timeoutSeconds: "300" }) });
  web.route({
    method: "POST", path: "/quick-actions", permission: perms.edit, kind: "action",
    handler: ({ ctx, body }) => {
      try {
        quick.create(viewerOf(ctx), body, ctx.ip);
        return redirect(ctx, "/quick-actions?saved=1");
      } catch (e) {
        if (e instanceof Invalid) return formPage(ctx, null, formValues(body), e.fields);
        throw e;
      }
    },
  });
  web.route({ method: "GET", path: "/quick-actions/:id", permission: perms.edit, kind: "page", handler: ({ ctx, params }) => formPage(ctx, Number(params.id), rowValues(quick.get(Number(params.id)))) });
  web.route({
    method: "POST", path: "/quick-actions/:id", permission: perms.edit, kind: "action",
    handler: ({ ctx, params, body }) => {
      try {
        quick.update(viewerOf(ctx), Number(params.id), body, ctx.ip);
        return redirect(ctx, "/quick-actions?saved=1");
      } catch (e) {
        if (e instanceof Invalid) return formPage(ctx, Number(params.id), formValues(body), e.fields);
        throw e;
      }
    },
  });
  web.route({
    method: "POST", path: "/quick-actions/:id/delete", permission: perms.edit, kind: "action",
    handler: ({ ctx, params }) => {
      quick.remove(viewerOf(ctx), Number(params.id), ctx.ip);
      return redirect(ctx, "/quick-actions?deleted=1");
    },
  });

  // ---- running ----
  const pickPage = (ctx: RequestContext, qa: QuickActionRow, error?: string, groupParam?: unknown) => {
    const viewer = viewerOf(ctx);
    const picked = new Set(groupOf(ctx, groupParam)?.machineIds ?? []);
    const rows = machines.list(viewer, { limit: 500 }).items.filter((m) => m.os === qa.os || m.os === "").map((m) => ({ id: m.id, hostname: m.hostname, online: m.online === 1, ip: m.xmpp_ip, checked: picked.has(m.id) }));
    return web.page(ctx, { title: ctx.t("qa.run.title", { name: qa.name }), current: "/quick-actions", status: error ? 422 : 200, scripts: ["actions.js"], body: <RunPickPage t={ctx.t} csrf={ctx.session!.csrf} qa={qa} machines={rows} error={error} /> });
  };
  web.route({ method: "GET", path: "/quick-actions/:id/run", permission: perms.run, kind: "page", handler: ({ ctx, params, query }) => pickPage(ctx, quick.get(Number(params.id)), undefined, query.group) });
  web.route({
    method: "POST", path: "/quick-actions/:id/run", permission: perms.run, kind: "action",
    handler: ({ ctx, params, body }) => {
      const qa = quick.get(Number(params.id));
      try {
        const runId = runner.startQuickAction(viewerOf(ctx), qa, ids(body.machines), ctx.ip);
        return redirect(ctx, `/quick-actions/runs/${runId}`);
      } catch (e) {
        if (e instanceof Invalid) return pickPage(ctx, qa, ctx.t(e.messageKey));
        throw e;
      }
    },
  });
  web.route({
    method: "POST", path: "/computers/:id/quick-action", permission: perms.run, kind: "action",
    handler: ({ ctx, params, body }) => {
      const qa = quick.get(Number(body.quickAction));
      const runId = runner.startQuickAction(viewerOf(ctx), qa, [Number(params.id)], ctx.ip);
      return redirect(ctx, `/quick-actions/runs/${runId}`);
    },
  });
  web.route({
    method: "GET", path: "/quick-actions/runs", permission: perms.view, kind: "page",
    handler: ({ ctx }) => {
      const rows = runner.recent(100).map((r) => ({ id: r.id, when: when(ctx, r.created_at), name: r.name, user: r.user_login, total: r.total, ok: r.ok ?? 0, failed: r.failed ?? 0, pending: r.pending ?? 0 }));
      return web.page(ctx, { title: ctx.t("qa.runs.title"), current: "/quick-actions/runs", body: <RunsPage t={ctx.t} rows={rows} /> });
    },
  });
  web.route({
    method: "GET", path: "/quick-actions/runs/:id", permission: perms.view, kind: "page",
    handler: ({ ctx, params }) => {
      const run = runner.run(Number(params.id));
      if (!run) throw new NotFound();
      const visible = visibleFilter(viewerOf(ctx));
      const results = runner.results(run.id).filter((r) => visible(r.machine_id)).map(resultView);
      if (ctx.isHtmx) return html(results.map((r) => String(<ResultRow t={ctx.t} r={r} />)).join(""));
      return web.page(ctx, { title: ctx.t("qa.runs.title"), current: "/quick-actions/runs", body: <RunPage t={ctx.t} title={ctx.t("qa.result.title", { name: run.name, when: when(ctx, run.created_at), user: run.user_login })} script={run.script} results={results} /> });
    },
  });
  const visibleFilter = (viewer: Viewer) => (machineId: number) => {
    try {
      machines.get(viewer, machineId);
      return true;
    } catch {
      return viewer.isSuper;
    }
  };

  // ---- built-in system actions (fragments into #system-output) ----
  const sysRoute = (op: string, permission: string, run: (ctx: RequestContext, id: number, body: Record<string, unknown>) => Promise<JSX.Element | string>) =>
    web.route({
      method: "POST", path: `/computers/:id/system/${op}`, permission, kind: "fragment",
      handler: async ({ ctx, params, body }) => {
        try {
          return html(String(await run(ctx, Number(params.id), body)));
        } catch (e) {
          if (e instanceof AppError && e.status === 409) return html(String(<SystemAlert text={ctx.t(e.messageKey, e.params)} />));
          throw e;
        }
      },
    });
  const call = (ctx: RequestContext, id: number, action: SystemAction, data: Record<string, unknown> = {}) => system.call(viewerOf(ctx), id, action, data, ctx.ip);
  const fail = (t: T, error: string) => <SystemError t={t} error={error} />;
  sysRoute("processes", perms.diagnose, async (ctx, id) => {
    const r = await call(ctx, id, "processes", { limit: 200 });
    if (!r.ok) return fail(ctx.t, r.error);
    const d = r.data as { processes: never[]; total: number };
    return <ProcessesView t={ctx.t} machineId={id} canKill={access.can(viewerOf(ctx), perms.power)} total={d.total} rows={d.processes} />;
  });
  sysRoute("killprocess", perms.power, async (ctx, id, body) => {
    const pid = Number(body.pid);
    if (!Number.isInteger(pid) || pid < 2) throw new Invalid({ pid: "error.invalid" });
    const r = await call(ctx, id, "killprocess", { pid, force: body.force === "1" });
    if (!r.ok) return fail(ctx.t, r.error);
    return r.data.killed ? <SystemNotice text={ctx.t("sys.killed", { pid })} /> : fail(ctx.t, String(r.data.detail ?? ""));
  });
  sysRoute("diskusage", perms.diagnose, async (ctx, id) => {
    const r = await call(ctx, id, "diskusage");
    return r.ok ? <DiskView t={ctx.t} rows={(r.data as { filesystems: never[] }).filesystems} /> : fail(ctx.t, r.error);
  });
  sysRoute("netstat", perms.diagnose, async (ctx, id) => {
    const r = await call(ctx, id, "netstat");
    return r.ok ? <NetstatView t={ctx.t} truncated={r.data.truncated === true} rows={(r.data as { sockets: never[] }).sockets} /> : fail(ctx.t, r.error);
  });
  sysRoute("agentversion", perms.diagnose, async (ctx, id) => {
    const r = await call(ctx, id, "agentversion");
    return r.ok ? <SystemNotice text={ctx.t("sys.versionIs", { version: String(r.data.version), os: String(r.data.os), arch: String(r.data.arch) })} /> : fail(ctx.t, r.error);
  });
  for (const op of ["reboot", "shutdown"] as const) {
    sysRoute(op, perms.power, async (ctx, id) => {
      const r = await call(ctx, id, "power", { op });
      return r.ok ? <SystemNotice text={ctx.t("sys.powerSent", { name: r.hostname, detail: String(r.data.detail ?? op) })} /> : fail(ctx.t, r.error);
    });
  }
  sysRoute("configread", perms.config, async (ctx, id) => {
    const r = await call(ctx, id, "configread");
    return r.ok ? <ConfigEditor t={ctx.t} machineId={id} path={String(r.data.path)} content={String(r.data.content)} /> : fail(ctx.t, r.error);
  });
  sysRoute("configwrite", perms.config, async (ctx, id, body) => {
    const content = str(body.content);
    if (content.length > 32_768) throw new Invalid({ content: "error.invalid" });
    const r = await call(ctx, id, "configwrite", { content });
    if (!r.ok) return fail(ctx.t, r.error);
    const d = r.data as { saved: boolean; problems: string[]; backup?: string };
    return <ConfigEditor t={ctx.t} machineId={id} path={str(body.path)} content={content} problems={d.saved ? undefined : d.problems} saved={d.saved ? (d.backup ?? "") : undefined} />;
  });

  // ---- Wake-on-LAN ----
  const wolPage = (ctx: RequestContext, notice?: string, error?: string) => {
    const viewer = viewerOf(ctx);
    const list = machines.list(viewer, { limit: 500 }).items;
    const last = wol.lastWakes(list.map((m) => m.id));
    const now = clock.now();
    const rows = list
      .map((m) => {
        const target = wol.targetOf(m.id, m.hostname);
        const w = last.get(m.id);
        let result = "";
        if (w) {
          if (w.error && w.via === "") result = ctx.t("wol.result.error", { error: w.error });
          else if (w.woke_at) result = ctx.t("wol.result.woke", { min: Math.max(0, Math.round((w.woke_at - w.sent_at) / 60_000)) });
          else if (w.error) result = ctx.t("wol.result.error", { error: w.error });
          else result = now - w.sent_at < ANSWER_WINDOW_MS ? ctx.t("wol.result.waiting") : ctx.t("wol.result.none");
        }
        const via = w ? (w.via === "appliance" ? "appliance" : (machines.getById(Number(w.via.split(":")[1]))?.hostname ?? w.via)) : "";
        return {
          id: m.id, hostname: m.hostname, online: m.online === 1, banned: m.banned === 1, macs: target.macs.join(" "), subnet: target.subnet?.cidr ?? "",
          last: w ? `${when(ctx, w.sent_at)} · ${ctx.t("wol.via", { via })}` : "", result,
        };
      })
      .filter((r) => r.macs);
    return web.page(ctx, { title: ctx.t("wol.title"), current: "/wol", status: error ? 422 : 200, scripts: ["actions.js"], body: <WolPage t={ctx.t} csrf={ctx.session!.csrf} rows={rows} canWake={access.can(viewer, perms.wake)} notice={notice} error={error} /> });
  };
  web.route({ method: "GET", path: "/wol", permission: perms.wolView, kind: "page", handler: ({ ctx, query }) => wolPage(ctx, query.scheduled ? ctx.t("wol.scheduled", { when: str(query.scheduled) }) : undefined) });
  web.route({
    method: "POST", path: "/wol/wake", permission: perms.wake, kind: "action",
    handler: async ({ ctx, body }) => {
      const chosen = body.one !== undefined && str(body.one) !== "" ? ids(body.one) : ids(body.machines);
      if (!chosen.length) return wolPage(ctx, undefined, ctx.t("wol.error.noMachines"));
      const out = await wol.wake(viewerOf(ctx), chosen, ctx.ip);
      const list = out.map((o) => `${o.hostname} → ${o.broadcast || "—"} (${o.via || "—"}${o.error ? `: ${o.error}` : ""})`).join(" ; ");
      return wolPage(ctx, ctx.t("wol.sent", { list }));
    },
  });
  web.route({
    method: "POST", path: "/wol/schedule", permission: perms.wake, kind: "action",
    handler: ({ ctx, body }) => {
      const chosen = ids(body.machines);
      if (!chosen.length) return wolPage(ctx, undefined, ctx.t("wol.error.noMachines"));
      const at = localToUtc(str(body.at), tz);
      if (at === null || at <= clock.now()) return wolPage(ctx, undefined, ctx.t("wol.error.badDate"));
      const viewer = viewerOf(ctx);
      for (const id of chosen) machines.get(viewer, id);
      scheduler.enqueue("wol.wake", { machineIds: chosen, user: viewer.login }, { runAt: at, maxAttempts: 1 });
      const shown = formatForReader(at, tz, ctx.lang);
      recorder.record({ module: "machines", action: "wol.history.scheduled", params: { count: chosen.length, when: shown }, criterion: "planned", userId: viewer.id, userLogin: viewer.login, sourceIp: ctx.ip });
      return redirect(ctx, `/wol?scheduled=${encodeURIComponent(shown)}`);
    },
  });

  // ---- remote shell pages ----
  web.route({
    method: "GET", path: "/computers/:id/shell", permission: perms.shell, kind: "page",
    handler: ({ ctx, params }) => {
      const m = machines.get(viewerOf(ctx), Number(params.id));
      return web.page(ctx, { title: ctx.t("shell.title", { name: m.hostname }), current: "/computers", scripts: ["xterm.js", "xterm-addon-fit.js", "shell.js"], body: <ShellPage t={ctx.t} csrf={ctx.session!.csrf} machine={{ id: m.id, hostname: m.hostname }} /> });
    },
  });
  web.route({
    method: "GET", path: "/shell-sessions", permission: perms.shell, kind: "page",
    handler: ({ ctx }) => {
      const visible = visibleFilter(viewerOf(ctx));
      const rows = shell.sessions(200).filter((s) => s.machine_id === null || visible(s.machine_id)).map((s) => ({
        id: s.id, when: when(ctx, s.started_at), end: s.ended_at ? `${when(ctx, s.ended_at)} (${s.end_reason})` : "…", user: s.user_login, machine: s.hostname, machineId: s.machine_id, ip: s.source_ip,
        bytes: `${s.bytes_in} / ${s.bytes_out}`, transcript: s.has_transcript === 1,
      }));
      return web.page(ctx, { title: ctx.t("shell.sessions"), current: "/shell-sessions", body: <SessionsPage t={ctx.t} rows={rows} /> });
    },
  });
  web.route({
    method: "GET", path: "/shell-sessions/:id/transcript", permission: perms.shell, kind: "page",
    handler: ({ ctx, params }) => {
      const s = shell.transcript(Number(params.id));
      if (!s || s.transcript === null || (s.machine_id !== null && !visibleFilter(viewerOf(ctx))(s.machine_id))) throw new NotFound();
      // Plain text, downloaded: terminal output is never rendered as HTML.
      return new Response(s.transcript, { headers: { "content-type": "text/plain; charset=utf-8", "content-disposition": `attachment; filename="shell-${Number(params.id)}.txt"` } });
    },
  });

  registerActionsApi(web, { quick, runner, wol, perms, visibleFilter });

  /** The machine page's panel. */
  const machinePanel = async ({ ctx, machine }: MachinePanelContext): Promise<string> => {
    const viewer = viewerOf(ctx);
    const can = (k: string) => access.can(viewer, k);
    if (![perms.diagnose, perms.power, perms.config, perms.shell, perms.run].some(can)) return "";
    const qas = can(perms.run) ? quick.list().filter((q) => !machine.os || q.os === machine.os).map((q) => ({ id: q.id, name: q.name })) : [];
    return String(await <SystemPanel t={ctx.t} csrf={ctx.session!.csrf} machine={machine} canDiagnose={can(perms.diagnose)} canPower={can(perms.power)} canConfig={can(perms.config)} canShell={can(perms.shell)} canRun={can(perms.run)} canInventory={can("inventory.request")} quickActions={qas} />);
  };

  return {
    quick, runner, wol, shell, system, perms, machinePanel,
    /** Where "run a quick action" on a group finds the group's visible members. */
    useGroups(source: (viewer: Viewer, groupId: number) => { name: string; machineIds: number[] } | null): void {
      groupSource = source;
    },
    /**
     * Reboots or shuts down machines (a group's "remote reboot"): one `power` request each,
     * online ones only; answers each machine's outcome. Needs `machines.power` (checked by the caller's route).
     */
    async power(viewer: Viewer, machineIds: number[], op: "reboot" | "shutdown", ip: string): Promise<{ machineId: number; ok: boolean; detail: string }[]> {
      return Promise.all(
        [...new Set(machineIds)].map(async (id) => {
          try {
            const r = await system.call(viewer, id, "power", { op }, ip);
            return { machineId: id, ok: r.ok && r.data.accepted === true, detail: r.ok ? String(r.data.detail ?? "") : r.error };
          } catch (e) {
            return { machineId: id, ok: false, detail: (e as Error).message };
          }
        }),
      );
    },
    /** Runs saved quick action `quickActionId` on `machineIds` (e.g. a group's members); answers the run id. */
    runOnMachines(viewer: Viewer, quickActionId: number, machineIds: number[], ip: string): number {
      return runner.startQuickAction(viewer, quick.get(quickActionId), machineIds, ip);
    },
  };
}

/** "2026-06-01T08:30" in `timeZone` → epoch ms, or null. */
export function localToUtc(local: string, timeZone: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) return null;
  const asUtc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  if (Number.isNaN(asUtc)) return null;
  // The zone's offset at that moment (two passes settle DST edges).
  const offset = (t: number) => {
    const parts = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" }).formatToParts(t);
    const get = (k: string) => Number(parts.find((p) => p.type === k)?.value);
    return Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second")) - t;
  };
  let t = asUtc - offset(asUtc);
  t = asUtc - offset(t);
  return t;
}

function registerActionsApi(web: Web, deps: { quick: ReturnType<typeof createQuickActions>; runner: ReturnType<typeof createRunner>; wol: ReturnType<typeof createWol>; perms: Record<string, string>; visibleFilter: (v: Viewer) => (id: number) => boolean }) {
  const { quick, runner, wol, perms } = deps;
  const QuickAction = Type.Object({ id: Type.Integer(), name: Type.String(), os: Type.String(), interpreter: Type.String(), script: Type.String(), description: Type.String(), timeoutSeconds: Type.Integer() });
  const Input = Type.Object({
    name: Type.String({ maxLength: 100 }), os: Type.Union([Type.Literal("linux"), Type.Literal("windows"), Type.Literal("darwin")]),
    interpreter: Type.Union([Type.Literal("shell"), Type.Literal("powershell"), Type.Literal("cmd"), Type.Literal("python")]),
    script: Type.String({ maxLength: 32_768 }), description: Type.Optional(Type.String({ maxLength: 500 })), timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
  });
  const toApi = (q: QuickActionRow) => ({ id: q.id, name: q.name, os: q.os, interpreter: q.interpreter, script: q.script, description: q.description, timeoutSeconds: q.timeout_seconds });
  const Id = Type.Object({ id: Type.Integer({ minimum: 1 }) });
  web.api({ method: "GET", path: "/api/v1/quick-actions", permission: perms.view!, summary: "List quick actions", tags: ["quick-actions"], response: Type.Object({ items: Type.Array(QuickAction), next: Type.Null() }), handler: () => ({ items: quick.list().map(toApi), next: null }) });
  web.api({ method: "POST", path: "/api/v1/quick-actions", permission: perms.edit!, summary: "Create a quick action", tags: ["quick-actions"], status: 201, body: Input, response: QuickAction, handler: ({ ctx, body }) => toApi(quick.create(viewerOf(ctx), body, ctx.ip)) });
  web.api({ method: "GET", path: "/api/v1/quick-actions/:id", permission: perms.view!, summary: "One quick action", tags: ["quick-actions"], params: Id, response: QuickAction, handler: ({ params }) => toApi(quick.get(params.id)) });
  web.api({ method: "PUT", path: "/api/v1/quick-actions/:id", permission: perms.edit!, summary: "Replace a quick action", tags: ["quick-actions"], params: Id, body: Input, response: QuickAction, handler: ({ ctx, params, body }) => toApi(quick.update(viewerOf(ctx), params.id, body, ctx.ip)) });
  web.api({ method: "DELETE", path: "/api/v1/quick-actions/:id", permission: perms.edit!, summary: "Delete a quick action", tags: ["quick-actions"], status: 204, params: Id, handler: ({ ctx, params }) => void quick.remove(viewerOf(ctx), params.id, ctx.ip) });
  const Result = Type.Object({ machineId: Type.Integer(), hostname: Type.String(), status: Type.String(), exitCode: Type.Union([Type.Integer(), Type.Null()]), output: Type.String(), truncated: Type.Boolean(), durationMs: Type.Union([Type.Integer(), Type.Null()]), error: Type.String() });
  web.api({
    method: "POST", path: "/api/v1/quick-actions/:id/runs", permission: perms.run!, summary: "Run a quick action on machines", tags: ["quick-actions"], status: 202, params: Id,
    body: Type.Object({ machineIds: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 20_000 }) }), response: Type.Object({ runId: Type.Integer() }),
    handler: ({ ctx, params, body }) => ({ runId: runner.startQuickAction(viewerOf(ctx), quick.get(params.id), body.machineIds, ctx.ip) }),
  });
  web.api({
    method: "GET", path: "/api/v1/quick-action-runs/:id", permission: perms.view!, summary: "A run's results per machine", tags: ["quick-actions"], params: Id,
    response: Type.Object({ id: Type.Integer(), name: Type.String(), finished: Type.Boolean(), results: Type.Array(Result) }),
    handler: ({ ctx, params }) => {
      const run = runner.run(params.id);
      if (!run) throw new NotFound();
      const visible = deps.visibleFilter(viewerOf(ctx));
      return {
        id: run.id, name: run.name, finished: run.finished_at !== null,
        results: runner.results(run.id).filter((r) => visible(r.machine_id)).map((r) => ({ machineId: r.machine_id, hostname: r.hostname, status: r.status, exitCode: r.exit_code, output: r.output, truncated: r.truncated === 1, durationMs: r.duration_ms, error: r.error })),
      };
    },
  });
  web.api({
    method: "POST", path: "/api/v1/wol", permission: perms.wake!, summary: "Wake machines (Wake-on-LAN)", tags: ["wol"],
    body: Type.Object({ machineIds: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 5000 }) }),
    response: Type.Object({ items: Type.Array(Type.Object({ machineId: Type.Integer(), hostname: Type.String(), via: Type.String(), broadcast: Type.String(), sent: Type.Integer(), error: Type.String() })), next: Type.Null() }),
    handler: async ({ ctx, body }) => ({ items: await wol.wake(viewerOf(ctx), body.machineIds, ctx.ip), next: null }),
  });
}
