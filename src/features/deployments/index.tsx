/**
 * @module deployments
 * Deployments (SPEC P4–P6) wired into the appliance: the engine (./engine.ts) in the
 * scheduler, the agents' HTTPS endpoints (the plan of a run, files by SHA-256 with HTTP
 * ranges), the pages (launch, follow live, rules, convergences), the JSON API, and the
 * live updates of the follow page. The audit pages (src/features/audit) read the same
 * tables. Machine groups, Wake-on-LAN and the package store come in as small injected
 * functions so each feature can land on its own.
 */
import { Type } from "@sinclair/typebox";
import { Invalid, NotFound, Forbidden } from "../../errors.ts";
import type { FieldErrors } from "../../errors.ts";
import { translator, type MessageKey } from "../../i18n/index.ts";
import type { AgentChannel } from "../../protocol/channel.ts";
import type { Web } from "../../web/app.tsx";
import { ctxOf, type RequestContext } from "../../web/context.ts";
import { html, json, redirect } from "../../web/respond.ts";
import { FollowPage, LogList, Summary, TargetRow, type FollowTarget } from "../../../views/deployments/follow.tsx";
import { mergeLiveIntoLog } from "../../../views/deployments/live.tsx";
import { PromptList } from "../../../views/deployments/prompts.tsx";
import { heldUntil } from "./prompts.ts";
import { ConvergencesPage, LaunchPage, RuleForm, RulesPage, type RuleView } from "../../../views/deployments/pages.tsx";
import type { EntitiesService, Viewer } from "../entities/service.ts";
import { formatForReader } from "../history/time.ts";
import { basicCredentials, createInventoryAuth, PostRefused, type AgentAccountStore } from "../inventory/auth.ts";
import type { InventorySettingsService } from "../inventory/settings.ts";
import type { MachinesService } from "../machines/service.ts";
import { viewerOf } from "../users/index.tsx";
import { createEngine, type Engine } from "./engine.ts";
import { noPackages } from "./package-source.ts";
import { freeze, type PackageSource } from "./plan.ts";
import type { DeploymentRow, RuleRow, Section, TargetRow as TRow } from "./repo.ts";

export interface DeploymentsDeps {
  machines: MachinesService;
  entities: EntitiesService;
  channel: AgentChannel;
  accounts: AgentAccountStore;
  packages?: PackageSource;
  membersOf?: (groupId: number) => number[];
  groups?: () => { id: number; name: string }[];
  wake?: (machineIds: number[]) => void | Promise<void>;
}

const str = (v: unknown) => (typeof v === "string" ? v : "");
const list = (v: unknown) => (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === "string");
const hhmm = (m: number | null) => (m === null ? "" : `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`);
const minutes = (s: string): number | null | undefined => {
  if (!s) return null;
  const m = /^(\d{2}):(\d{2})$/.exec(s);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) return undefined;
  return Number(m[1]) * 60 + Number(m[2]);
};
/** A `datetime-local` value read in the appliance's time zone. */
export function localToEpoch(value: string, timeZone: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value);
  if (!m) return null;
  const asUtc = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!);
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(asUtc);
  const g = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const offset = Date.UTC(g("year"), g("month") - 1, g("day"), g("hour"), g("minute")) - asUtc;
  return asUtc - offset;
}

export function registerDeployments(web: Web, deps: DeploymentsDeps) {
  const { registry, access, hub, db, clock, recorder, log } = web.deps;
  const tz = web.deps.timeZone ?? "UTC";
  let packages = deps.packages ?? noPackages;
  // Set at construction or later, when the features they come from are wired (./wire.ts).
  const hooks: { membersOf?: typeof deps.membersOf; groups?: typeof deps.groups; wake?: typeof deps.wake; wakeable?: (machineId: number) => boolean } = { membersOf: deps.membersOf, groups: deps.groups, wake: deps.wake };
  const p = (key: string, label: MessageKey) => registry.permission({ key, category: "perm.category.deployments", label });
  const perms = {
    launch: p("deploy.launch", "perm.deploy.launch"),
    rules: p("deploy.rules", "perm.deploy.rules"),
    convergences: p("deploy.convergences", "perm.deploy.convergences"),
    audit: p("audit.view", "perm.audit.view"),
    team: p("audit.team", "perm.audit.team"),
    all: p("audit.all", "perm.audit.all"),
  };
  registry.menuEntry({ id: "deploy-launch", section: "menu.section.deployments", label: "nav.deploy.launch", href: "/deployments/new", permission: perms.launch, order: 40 });
  registry.menuEntry({ id: "deploy-rules", section: "menu.section.deployments", label: "nav.deploy.rules", href: "/deployments/rules", permission: perms.rules, order: 41 });
  registry.menuEntry({ id: "deploy-convergences", section: "menu.section.deployments", label: "nav.deploy.convergences", href: "/deployments/convergences", permission: [perms.convergences, perms.audit], order: 42 });

  // Live: a changed deployment re-renders its summary and the changed row for the tabs that may see it.
  const publish = (deploymentId: number, targetId: number | null) => {
    if (hub.size === 0) return;
    const d = engine.repo.find(deploymentId);
    if (!d) return;
    const row = targetId !== null ? engine.repo.target(targetId) : null;
    void hub.publish("swap", async (sub) => {
      if (!mayView({ id: sub.user.id, login: "", isSuper: sub.user.isSuper }, d)) return null;
      const t = translator(sub.lang);
      const summary = await <Summary t={t} s={{ id: d.id, status: d.status, counts: engine.repo.counts(d.id), reasons: engine.repo.reasonCounts(d.id), deferred: engine.prompts.heldCount(d.id, clock.now()) }} />;
      const rows = row ? [row] : engine.repo.targets(d.id).slice(0, 200);
      const safeRows = (await Promise.all(rows.map((r) => <table data-swap-rows><tbody><TargetRow t={t} deploymentId={d.id} r={targetView(r, sub.lang)} /></tbody></table>))).join("");
      return summary + safeRows;
    });
  };

  const engine: Engine = createEngine({
    db, clock, log, recorder, scheduler: web.deps.scheduler, channel: deps.channel, timeZone: tz,
    machines: { getById: (id) => deps.machines.getById(id), onChange: (l) => deps.machines.onChange(l) },
    membersOf: (g) => (hooks.membersOf ? hooks.membersOf(g) : []),
    wake: (ids) => (hooks.wake ? hooks.wake(ids) : undefined),
    // Only machines the wake can reach (a MAC known): the others wait for the machine at once.
    hasWake: (id) => !!hooks.wake && (hooks.wakeable ? hooks.wakeable(id) : true),
    onUpdate: publish,
    filePath: (sha) => packages.filePath(sha),
  });

  // ---- who sees what ----
  const teamOf = (userId: number): number[] =>
    (db.query(`SELECT DISTINCT b.user_id AS id FROM user_group_members a JOIN user_group_members b ON a.group_id = b.group_id WHERE a.user_id = ?`).all(userId) as { id: number }[]).map((r) => r.id);
  function mayView(v: Viewer, d: DeploymentRow): boolean {
    if (v.isSuper || access.can({ id: v.id, isSuper: v.isSuper }, perms.all)) return true;
    if (d.created_by === v.id && (access.can({ id: v.id, isSuper: v.isSuper }, perms.audit) || access.can({ id: v.id, isSuper: v.isSuper }, perms.launch))) return true;
    if (d.created_by === null && access.can({ id: v.id, isSuper: v.isSuper }, perms.convergences)) return true;
    return access.can({ id: v.id, isSuper: v.isSuper }, perms.team) && d.created_by !== null && teamOf(v.id).includes(d.created_by);
  }
  const mustView = (v: Viewer, id: number): DeploymentRow => {
    const d = engine.repo.find(id);
    if (!d) throw new NotFound();
    if (!mayView(v, d)) throw new Forbidden();
    return d;
  };

  const when = (ms: number | null, lang: "fr" | "en") => (ms ? formatForReader(ms, tz, lang) : "—");
  const targetView = (r: TRow, lang: "fr" | "en"): FollowTarget => {
    const f = engine.prompts.deferral(r.id);
    const held = heldUntil(r, f, clock.now());
    return {
      id: r.id, hostname: r.hostname, machineId: r.machine_id, state: r.state, step: r.step, stepLabel: r.step_label, reason: r.reason, detail: r.detail, exitCode: r.exit_code,
      bytesDone: r.bytes_done, bytesTotal: r.bytes_total, attempt: r.attempt, updated: when(r.updated_at, lang),
      lang, live: r.state === "running" ? engine.live.tail(r.id, r.run_id) : null,
      deferredUntil: held ? when(held, lang) : null, deferrals: f ? { used: f.used, max: f.max_deferrals } : null,
    };
  };

  // ---- launching ----
  function launch(viewer: Viewer, input: { packageRef: string; section: Section; machineIds: number[]; groupId: number | null; title?: string; startAt?: number; deadlineHours: number }, ip: string): number {
    const visible = deps.entities.visibleIds(viewer);
    const asked = input.groupId ? (hooks.membersOf ? hooks.membersOf(input.groupId) : []) : input.machineIds;
    const machineIds = asked.filter((id) => {
      const m = deps.machines.getById(id);
      return m && visible.has(m.entity_id);
    });
    if (!machineIds.length) throw new Invalid({ machines: "deploy.launch.error.targets" }, "deploy.launch.error.targets");
    let resolved;
    try {
      resolved = packages.resolve(input.packageRef, input.section);
    } catch (e) {
      throw new Invalid({ package: "deploy.launch.error.package" }, "deploy.launch.error.plan", { detail: (e as Error).message });
    }
    const startAt = input.startAt ?? clock.now();
    const group = input.groupId ? hooks.groups?.().find((g) => g.id === input.groupId) : undefined;
    return engine.launch({
      title: input.title?.trim() || `${resolved.name} ${resolved.version}`, packageRef: input.packageRef, packageName: resolved.name, packageVersion: resolved.version, section: input.section,
      plan: freeze(input.section, resolved.packages), transfer: resolved.transfer, bandwidthKbps: resolved.bandwidthKbps, priority: resolved.priority,
      machineIds, groupId: input.groupId, targetLabel: group?.name ?? (input.groupId ? `#${input.groupId}` : machineIds.length === 1 ? (deps.machines.getById(machineIds[0]!)?.hostname ?? "") : ""),
      startAt, deadlineAt: startAt + input.deadlineHours * 3600_000, by: { id: viewer.id, login: viewer.login, ip },
    });
  }

  const launchPage = (ctx: RequestContext, extra: { values?: Record<string, string>; checked?: Set<number>; errors?: FieldErrors; problem?: string; status?: number } = {}) => {
    const viewer = viewerOf(ctx);
    const machines = deps.machines.list(viewer, { limit: 500 }).items.map((m) => ({ id: m.id, hostname: m.hostname, online: m.online === 1 }));
    return web.page(ctx, {
      title: ctx.t("deploy.launch.title"), current: "/deployments/new", status: extra.status,
      body: <LaunchPage t={ctx.t} csrf={ctx.session!.csrf} packages={packages.list().map((x) => ({ value: x.ref, label: x.label }))} machines={machines} groups={(hooks.groups?.() ?? []).map((g) => ({ value: String(g.id), label: g.name }))} values={extra.values ?? {}} checked={extra.checked ?? new Set()} errors={extra.errors} problem={extra.problem} />,
    });
  };

  web.route({
    method: "GET", path: "/deployments/new", permission: perms.launch, kind: "page",
    handler: ({ ctx, query }) => launchPage(ctx, { values: { package: str(query.package), group: str(query.group) }, checked: new Set(list(query.machine).map(Number)) }),
  });

  web.route({
    method: "POST", path: "/deployments", permission: perms.launch, kind: "action",
    handler: async ({ ctx, body }) => {
      const values = Object.fromEntries(["package", "section", "title", "group", "start", "deadline"].map((k) => [k, str(body[k])]));
      const checked = new Set(list(body.machines).filter((x) => /^\d+$/.test(x)).map(Number));
      const errors: FieldErrors = {};
      const deadline = Number(values.deadline || "24");
      if (!Number.isInteger(deadline) || deadline < 1 || deadline > 720) errors.deadline = "deploy.launch.error.deadline";
      const startAt = values.start ? localToEpoch(values.start, tz) : undefined;
      if (startAt === null) errors.start = "deploy.launch.error.start";
      if (!values.package) errors.package = "deploy.launch.error.package";
      const section = (["install", "update", "uninstall", "launch"] as const).find((s) => s === values.section) ?? "install";
      if (Object.keys(errors).length) return launchPage(ctx, { values, checked, errors, status: 422 });
      try {
        const id = launch(viewerOf(ctx), { packageRef: values.package!, section, machineIds: [...checked], groupId: /^\d+$/.test(values.group!) ? Number(values.group) : null, title: values.title, startAt: startAt ?? undefined, deadlineHours: deadline }, ctx.ip);
        return redirect(ctx, `/deployments/${id}`);
      } catch (e) {
        if (!(e instanceof Invalid)) throw e;
        return launchPage(ctx, { values, checked, errors: e.fields ?? {}, problem: ctx.t(e.messageKey, e.params), status: 422 });
      }
    },
  });

  // ---- following ----
  web.route({
    method: "GET", path: "/deployments/:id", permission: null, kind: "page",
    handler: ({ ctx, params }) => {
      const viewer = viewerOf(ctx);
      const d = mustView(viewer, Number(params.id));
      const canManage = access.can(viewer, perms.launch) && (d.created_by === viewer.id || viewer.isSuper || access.can(viewer, perms.all));
      return web.page(ctx, {
        title: ctx.t("deploy.follow.title", { name: d.title }), current: "/audit",
        body: (
          <FollowPage
            t={ctx.t} csrf={ctx.session!.csrf} canManage={canManage}
            d={{ id: d.id, title: d.title, pkg: `${d.package_name} ${d.package_version}`, section: ctx.t(`deploy.section.${d.section}`), start: when(d.start_at, ctx.lang), deadline: when(d.deadline_at, ctx.lang), by: d.created_by_login || "—", target: d.target_type === "group" ? ctx.t("audit.target.group", { name: d.target_label }) : d.target_label || ctx.t("audit.target.machines", { n: engine.repo.counts(d.id).total }), transfer: d.transfer + (d.bandwidth_kbps ? ` ≤ ${d.bandwidth_kbps} kbit/s` : "") }}
            summary={{ id: d.id, status: d.status, counts: engine.repo.counts(d.id), reasons: engine.repo.reasonCounts(d.id), deferred: engine.prompts.heldCount(d.id, clock.now()) }}
            targets={engine.repo.targets(d.id).map((r) => targetView(r, ctx.lang))}
            serverLog={engine.repo.deploymentLogs(d.id).map((l) => ({ at: when(l.at, ctx.lang), text: l.text }))}
          />
        ),
      });
    },
  });

  web.route({
    method: "GET", path: "/deployments/:id/targets/:tid/log", permission: null, kind: "fragment",
    handler: async ({ ctx, params }) => {
      const d = mustView(viewerOf(ctx), Number(params.id));
      const t = engine.repo.target(Number(params.tid));
      if (!t || t.deployment_id !== d.id) throw new NotFound();
      const f = engine.prompts.deferral(t.id);
      const held = heldUntil(t, f, clock.now());
      const safePrompts = await (
        <PromptList
          t={ctx.t}
          deferral={f ? { used: f.used, max: f.max_deferrals, until: held ? when(held, ctx.lang) : null } : null}
          prompts={engine.prompts.prompts(t.id).map((p) => ({ at: when(p.at, ctx.lang), kind: p.kind, asked: p.asked, outcome: p.outcome, answer: p.answer, by: p.by_whom, applied: p.applied }))}
        />
      );
      const entries = mergeLiveIntoLog(ctx.t, ctx.lang, engine.repo.logs(t.id), engine.live.rowsOf(t.id)).map((l) => ({ at: when(l.at, ctx.lang), kind: l.kind, text: l.text, exitCode: l.exitCode }));
      return html(safePrompts + (await <LogList t={ctx.t} entries={entries} />));
    },
  });

  const manage = (ctx: RequestContext, id: number) => {
    const viewer = viewerOf(ctx);
    const d = mustView(viewer, id);
    if (!(d.created_by === viewer.id || viewer.isSuper || access.can(viewer, perms.all))) throw new Forbidden();
    return viewer;
  };
  web.route({
    method: "POST", path: "/deployments/:id/stop", permission: perms.launch, kind: "action",
    handler: ({ ctx, params }) => {
      const v = manage(ctx, Number(params.id));
      engine.stop(Number(params.id), { id: v.id, login: v.login, ip: ctx.ip });
      return redirect(ctx, `/deployments/${params.id}`);
    },
  });
  web.route({
    method: "POST", path: "/deployments/:id/relaunch", permission: perms.launch, kind: "action",
    handler: ({ ctx, params }) => {
      const v = manage(ctx, Number(params.id));
      engine.relaunchFailed(Number(params.id), { id: v.id, login: v.login, ip: ctx.ip });
      return redirect(ctx, `/deployments/${params.id}`);
    },
  });

  // ---- rules (P4) ----
  const ruleView = (r: RuleRow): RuleView => ({
    id: r.id, position: r.position, name: r.name, description: r.description, enabled: r.enabled === 1, os: r.os, group: r.group_id === null ? "" : String(r.group_id),
    windowStart: hhmm(r.window_start), windowEnd: hhmm(r.window_end), maxParallel: r.max_parallel === null ? "" : String(r.max_parallel),
  });
  const readRule = (body: Record<string, unknown>) => {
    const errors: FieldErrors = {};
    const name = str(body.name).trim();
    if (!name || name.length > 100) errors.name = "deploy.rules.error.name";
    const ws = minutes(str(body.windowStart));
    const we = minutes(str(body.windowEnd));
    if (ws === undefined || we === undefined || (ws === null) !== (we === null)) errors.windowStart = "deploy.rules.error.time";
    const mpRaw = str(body.maxParallel).trim();
    const mp = mpRaw ? Number(mpRaw) : null;
    if (mp !== null && (!Number.isInteger(mp) || mp < 1 || mp > 10_000)) errors.maxParallel = "deploy.rules.error.parallel";
    const gRaw = str(body.group).trim();
    if (gRaw && !/^\d{1,9}$/.test(gRaw)) errors.group = "deploy.rules.error.group";
    const os: RuleRow["os"] = (["windows", "linux", "darwin"] as const).find((o) => o === str(body.os)) ?? "";
    const values = Object.fromEntries(["name", "description", "os", "group", "windowStart", "windowEnd", "maxParallel", "enabled"].map((k) => [k, str(body[k])]));
    return { errors, values, rule: { name, description: str(body.description).slice(0, 500), enabled: body.enabled === "on" ? 1 : 0, os, group_id: gRaw ? Number(gRaw) : null, window_start: ws ?? null, window_end: we ?? null, max_parallel: mp } };
  };
  const rulesPage = (ctx: RequestContext, safeForm?: JSX.Element, status?: number) =>
    web.page(ctx, {
      title: ctx.t("deploy.rules.title"), current: "/deployments/rules", status,
      body: <RulesPage t={ctx.t} csrf={ctx.session!.csrf} rules={engine.repo.rules().map(ruleView)} safeForm={safeForm ?? <RuleForm t={ctx.t} csrf={ctx.session!.csrf} />} />,
    });
  const recordRule = (ctx: RequestContext, action: MessageKey, name: string, id: number) => {
    const v = viewerOf(ctx);
    recorder.record({ module: "deployment", action, params: { name }, criterion: "deployment", userId: v.id, userLogin: v.login, sourceIp: ctx.ip, target: { type: "deployment-rule", id, name } });
  };
  web.route({ method: "GET", path: "/deployments/rules", permission: perms.rules, kind: "page", handler: ({ ctx }) => rulesPage(ctx) });
  web.route({
    method: "POST", path: "/deployments/rules", permission: perms.rules, kind: "action",
    handler: ({ ctx, body }) => {
      const r = readRule(body);
      if (Object.keys(r.errors).length) return rulesPage(ctx, <RuleForm t={ctx.t} csrf={ctx.session!.csrf} errors={r.errors} values={r.values} />, 422);
      const id = engine.repo.insertRule(r.rule, clock.now());
      recordRule(ctx, "deploy.history.ruleSaved", r.rule.name, id);
      return redirect(ctx, "/deployments/rules");
    },
  });
  const mustRule = (id: string) => engine.repo.rule(Number(id)) ?? (() => { throw new NotFound(); })();
  web.route({
    method: "GET", path: "/deployments/rules/:id/edit", permission: perms.rules, kind: "page",
    handler: ({ ctx, params }) => rulesPage(ctx, <RuleForm t={ctx.t} csrf={ctx.session!.csrf} rule={ruleView(mustRule(params.id!))} />),
  });
  web.route({
    method: "POST", path: "/deployments/rules/:id", permission: perms.rules, kind: "action",
    handler: ({ ctx, params, body }) => {
      const existing = mustRule(params.id!);
      const r = readRule(body);
      if (Object.keys(r.errors).length) return rulesPage(ctx, <RuleForm t={ctx.t} csrf={ctx.session!.csrf} rule={ruleView(existing)} errors={r.errors} values={r.values} />, 422);
      engine.repo.updateRule(existing.id, r.rule, clock.now());
      recordRule(ctx, "deploy.history.ruleSaved", r.rule.name, existing.id);
      return redirect(ctx, "/deployments/rules");
    },
  });
  for (const what of ["up", "down", "delete"] as const) {
    web.route({
      method: "POST", path: `/deployments/rules/:id/${what}`, permission: perms.rules, kind: "action",
      handler: ({ ctx, params }) => {
        const r = mustRule(params.id!);
        db.transaction(() => {
          if (what === "delete") {
            engine.repo.deleteRule(r.id);
            recordRule(ctx, "deploy.history.ruleDeleted", r.name, r.id);
            return;
          }
          const rules = engine.repo.rules();
          const i = rules.findIndex((x) => x.id === r.id);
          const j = what === "up" ? i - 1 : i + 1;
          if (j < 0 || j >= rules.length) return;
          [rules[i], rules[j]] = [rules[j]!, rules[i]!];
          rules.forEach((x, k) => engine.repo.setRulePosition(x.id, k + 1, clock.now()));
          recordRule(ctx, "deploy.history.ruleMoved", r.name, r.id);
        })();
        return redirect(ctx, "/deployments/rules");
      },
    });
  }

  // ---- convergences (P6) ----
  const convergence = createConvergence();
  function createConvergence() {
    const deployTo = (c: { id: number; name: string; package_ref: string; group_label: string }, machineIds: number[], section: Section) => {
      if (!machineIds.length) return;
      let resolved;
      try {
        resolved = packages.resolve(c.package_ref, section);
      } catch (e) {
        log.warn({ convergence: c.id, err: (e as Error).message }, "convergence cannot deploy its package");
        return;
      }
      engine.launch({
        kind: "convergence", title: `${c.name} (${section})`, packageRef: c.package_ref, packageName: resolved.name, packageVersion: resolved.version, section,
        plan: freeze(section, resolved.packages), transfer: resolved.transfer, bandwidthKbps: resolved.bandwidthKbps, priority: resolved.priority, machineIds,
        targetLabel: c.group_label, convergenceId: c.id, deadlineAt: clock.now() + 7 * 24 * 3600_000, by: { id: null, login: "" },
      });
    };
    return {
      /** A machine entered or left a group (the machine-groups feature calls this). */
      membershipChanged(groupId: number, machineId: number, change: "entered" | "left"): void {
        for (const c of engine.repo.convergencesOfGroup(groupId)) {
          if (change === "entered") deployTo(c, [machineId], "install");
          else if (c.uninstall_on_leave === 1) deployTo(c, [machineId], "uninstall");
        }
      },
      deployTo,
    };
  }
  web.route({
    method: "GET", path: "/deployments/convergences", permission: null, kind: "page",
    handler: ({ ctx }) => {
      const viewer = viewerOf(ctx);
      if (!access.can(viewer, perms.convergences) && !access.can(viewer, perms.audit)) throw new Forbidden();
      const items = engine.repo.convergences().map((c) => ({ id: c.id, name: c.name, group: c.group_label || `#${c.group_id}`, pkg: c.package_name, uninstall: c.uninstall_on_leave === 1, enabled: c.enabled === 1, deployments: engine.repo.deploymentsOfConvergence(c.id).length }));
      return web.page(ctx, { title: ctx.t("deploy.conv.title"), current: "/deployments/convergences", body: <ConvergencesPage t={ctx.t} csrf={ctx.session!.csrf} packages={packages.list().map((x) => ({ value: x.ref, label: x.label }))} items={items} canManage={access.can(viewer, perms.convergences)} /> });
    },
  });
  web.route({
    method: "POST", path: "/deployments/convergences", permission: perms.convergences, kind: "action",
    handler: ({ ctx, body }) => {
      const v = viewerOf(ctx);
      const name = str(body.name).trim().slice(0, 100);
      const group = str(body.group).trim();
      const ref = str(body.package);
      const errors: FieldErrors = {};
      if (!name) errors.name = "deploy.rules.error.name";
      if (!/^\d{1,9}$/.test(group)) errors.group = "deploy.rules.error.group";
      const pkg = packages.list().find((x) => x.ref === ref);
      if (!pkg) errors.package = "deploy.launch.error.package";
      if (Object.keys(errors).length) throw new Invalid(errors);
      const groupLabel = hooks.groups?.().find((g) => g.id === Number(group))?.name ?? `#${group}`;
      const row = { name, group_id: Number(group), group_label: groupLabel, package_ref: ref, package_name: pkg!.label, uninstall_on_leave: body.uninstall === "on" ? 1 : 0, enabled: 1, created_by: v.id, created_by_login: v.login };
      const id = engine.repo.insertConvergence(row, clock.now());
      recorder.record({ module: "deployment", action: "deploy.history.convergenceSaved", params: { name }, criterion: "deployment", userId: v.id, userLogin: v.login, sourceIp: ctx.ip, target: { type: "convergence", id, name } });
      // The machines already in the group get it now.
      convergence.deployTo({ id, name, package_ref: ref, group_label: groupLabel }, hooks.membersOf ? hooks.membersOf(Number(group)) : [], "install");
      return redirect(ctx, "/deployments/convergences");
    },
  });
  web.route({
    method: "POST", path: "/deployments/convergences/:id/delete", permission: perms.convergences, kind: "action",
    handler: ({ ctx, params }) => {
      const v = viewerOf(ctx);
      const c = engine.repo.convergence(Number(params.id));
      if (!c) throw new NotFound();
      engine.repo.deleteConvergence(c.id);
      recorder.record({ module: "deployment", action: "deploy.history.convergenceDeleted", params: { name: c.name }, criterion: "deployment", userId: v.id, userLogin: v.login, sourceIp: ctx.ip, target: { type: "convergence", id: c.id, name: c.name } });
      return redirect(ctx, "/deployments/convergences");
    },
  });

  // ---- agents: the plan of a run, files by SHA-256 (HTTPS, the agent's own credentials) ----
  const noSettings = { isAllowedNetwork: () => false, current: () => ({ hasKey: false, networks: [], entityId: 1 }), verifyKey: async () => false } as unknown as InventorySettingsService;
  const agentAuth = createInventoryAuth({ accounts: deps.accounts, machines: deps.machines, settings: noSettings, clock, log });
  const agentGet = (path: string, handle: (request: Request, agent: { machineId: number; jid: string }, params: Record<string, string>) => Response | Promise<Response>) => {
    registry.route({ method: "GET", path, permission: "public", kind: "api" });
    web.app.route("GET", path, ({ request, params }: { request: Request; params: Record<string, string> }) => {
      const ctx = ctxOf(request);
      if (!ctx.isHttps) return json({ error: { code: "https_required", message: "agents fetch deployments over HTTPS only" } }, 403);
      try {
        const agent = agentAuth.agentOnly(request.headers, ctx.ip);
        return handle(request, agent, params);
      } catch (err) {
        if (!(err instanceof PostRefused)) throw err;
        return json({ error: { code: err.status === 401 ? "unauthorized" : "forbidden", message: err.reason } }, err.status, err.status === 401 ? { "www-authenticate": 'Basic realm="Medulla agents"' } : {});
      }
    });
  };
  void basicCredentials;
  agentGet("/api/v1/agents/deployments/:runId/plan", (_req, agent, params) => {
    const plan = engine.planOfRun(str(params.runId), agent.machineId);
    if (!plan) return json({ error: { code: "not_found", message: "no such run for this machine" } }, 404);
    return new Response(plan.json, { headers: { "content-type": "application/json", "x-content-sha256": plan.sha256, "cache-control": "no-store" } });
  });
  agentGet("/api/v1/agents/files/:sha256", async (request, agent, params) => {
    const sha = str(params.sha256);
    if (!/^[0-9a-f]{64}$/.test(sha)) return json({ error: { code: "bad_request", message: "not a SHA-256" } }, 400);
    if (!engine.machineMayFetch(agent.machineId, sha)) return json({ error: { code: "forbidden", message: "no deployment under way on this machine uses this file" } }, 403);
    const path = packages.filePath(sha);
    const file = path ? Bun.file(path) : null;
    if (!file || !(await file.exists())) return json({ error: { code: "not_found", message: "the package store does not hold this file" } }, 404);
    const size = file.size;
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.get("range") ?? "");
    const headers: Record<string, string> = { "content-type": "application/octet-stream", "accept-ranges": "bytes", etag: `"${sha}"`, "cache-control": "no-store" };
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size || start > end) return new Response(null, { status: 416, headers: { ...headers, "content-range": `bytes */${size}` } });
      return new Response(file.slice(start, end + 1), { status: 206, headers: { ...headers, "content-range": `bytes ${start}-${end}/${size}`, "content-length": String(end - start + 1) } });
    }
    const m = deps.machines.getById(agent.machineId);
    recorder.record({ module: "download", action: "deploy.history.fileServed", params: { file: sha.slice(0, 12), machine: m?.hostname ?? "", bytes: size }, criterion: "deployment", who: m?.hostname ?? agent.jid, target: { type: "machine", id: agent.machineId, name: m?.hostname ?? "" } });
    return new Response(file, { headers: { ...headers, "content-length": String(size) } });
  });

  // ---- JSON API ----
  const Launch = Type.Object({
    packageId: Type.String({ maxLength: 100, description: "The package to deploy (its dependencies are deployed first)" }),
    section: Type.Optional(Type.Union([Type.Literal("install"), Type.Literal("update"), Type.Literal("uninstall"), Type.Literal("launch")])),
    machineIds: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 10_000 })),
    groupId: Type.Optional(Type.Integer({ minimum: 1 })),
    title: Type.Optional(Type.String({ maxLength: 200 })),
    startAt: Type.Optional(Type.Integer({ description: "Epoch ms; absent: now" })),
    deadlineHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 720 })),
  });
  const Status = Type.Object({
    id: Type.Integer(), title: Type.String(), status: Type.String(), section: Type.String(), startAt: Type.Integer(), deadlineAt: Type.Integer(),
    counts: Type.Record(Type.String(), Type.Integer()),
    targets: Type.Array(Type.Object({
      machineId: Type.Union([Type.Integer(), Type.Null()]), hostname: Type.String(), state: Type.String(), step: Type.Union([Type.Integer(), Type.Null()]), reason: Type.Union([Type.String(), Type.Null()]), detail: Type.String(), exitCode: Type.Union([Type.Integer(), Type.Null()]), attempt: Type.Integer(),
      deferral: Type.Optional(Type.Union([Type.Null(), Type.Object({ used: Type.Integer(), max: Type.Integer(), resumeAt: Type.Union([Type.Integer(), Type.Null()], { description: "While the machine waits for its user's postponement to end (state queued)" }) })])),
    })),
  });
  const statusOf = (d: DeploymentRow) => ({
    id: d.id, title: d.title, status: d.status, section: d.section, startAt: d.start_at, deadlineAt: d.deadline_at, counts: engine.repo.counts(d.id) as Record<string, number>,
    targets: engine.repo.targets(d.id).map((t) => {
      const f = engine.prompts.deferral(t.id);
      return { machineId: t.machine_id, hostname: t.hostname, state: t.state, step: t.step, reason: t.reason, detail: t.detail, exitCode: t.exit_code, attempt: t.attempt, deferral: f ? { used: f.used, max: f.max_deferrals, resumeAt: heldUntil(t, f, clock.now()) } : null };
    }),
  });
  web.api({
    method: "POST", path: "/api/v1/deployments", permission: perms.launch, tags: ["deployments"], summary: "Launch a deployment on machines or a group, now or scheduled",
    body: Launch, response: Status,
    handler: ({ ctx, body }) => {
      const id = launch(viewerOf(ctx), { packageRef: body.packageId, section: body.section ?? "install", machineIds: body.machineIds ?? [], groupId: body.groupId ?? null, title: body.title, startAt: body.startAt, deadlineHours: body.deadlineHours ?? 24 }, ctx.ip);
      return statusOf(engine.repo.find(id)!);
    },
  });
  web.api({
    method: "GET", path: "/api/v1/deployments/:id", permission: null, tags: ["deployments"], summary: "A deployment and the state of every target machine",
    params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), response: Status,
    handler: ({ ctx, params }) => statusOf(mustView(viewerOf(ctx), params.id)),
  });
  web.api({
    method: "POST", path: "/api/v1/deployments/:id/stop", permission: perms.launch, tags: ["deployments"], summary: "Stop a deployment",
    params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), body: Type.Object({}), response: Status,
    handler: ({ ctx, params }) => {
      const v = manage(ctx, params.id);
      engine.stop(params.id, { id: v.id, login: v.login, ip: ctx.ip });
      return statusOf(engine.repo.find(params.id)!);
    },
  });
  web.api({
    method: "POST", path: "/api/v1/deployments/:id/relaunch", permission: perms.launch, tags: ["deployments"], summary: "Relaunch only the failed and expired machines",
    params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), body: Type.Object({}), response: Status,
    handler: ({ ctx, params }) => {
      const v = manage(ctx, params.id);
      engine.relaunchFailed(params.id, { id: v.id, login: v.login, ip: ctx.ip });
      return statusOf(engine.repo.find(params.id)!);
    },
  });

  return {
    engine, perms, mayView, teamOf, convergence,
    /** The package store, once the packages feature is wired (or a test's own). */
    usePackages(source: PackageSource) {
      packages = source;
    },
    /** Machine groups (members, names) and Wake-on-LAN, once their features are wired. */
    useGroups(membersOf: (groupId: number) => number[], groups: () => { id: number; name: string }[]) {
      hooks.membersOf = membersOf;
      hooks.groups = groups;
    },
    useWake(wake: (machineIds: number[]) => void | Promise<void>, wakeable?: (machineId: number) => boolean) {
      hooks.wake = wake;
      hooks.wakeable = wakeable;
    },
    /** Deployments not finished that use this package (the packages feature refuses to delete it meanwhile). */
    usageOf: (packageRef: string) => engine.repo.usageOf(packageRef),
  };
}

export type Deployments = ReturnType<typeof registerDeployments>;
