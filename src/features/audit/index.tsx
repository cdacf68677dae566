/**
 * @module audit
 * The audit of tasks (SPEC A1–A3): my tasks (in progress in the last 24 h, scheduled,
 * past), my team's and all users' past tasks, and convergences, filtered by name or user,
 * with a refresh button and an auto-refresh interval (5 minutes by default). A task's
 * detail is the deployment's follow page (machines in total, outcomes, download and rights
 * errors, each machine's log). Reads the deployments' tables; writes nothing.
 */
import type { MessageKey } from "../../i18n/index.ts";
import type { Web } from "../../web/app.tsx";
import type { RequestContext } from "../../web/context.ts";
import { html } from "../../web/respond.ts";
import { AuditPage, AuditTable, type AuditRow } from "../../../views/deployments/pages.tsx";
import { Forbidden } from "../../errors.ts";
import type { Deployments } from "../deployments/index.tsx";
import type { DeploymentRow } from "../deployments/repo.ts";
import { formatForReader } from "../history/time.ts";
import { viewerOf } from "../users/index.tsx";

const str = (v: unknown) => (typeof v === "string" ? v : "");
const DAY = 86_400_000;
export const DEFAULT_INTERVAL_MIN = 5;

type Scope = "mine" | "team" | "all" | "convergences";
type Tab = "current" | "scheduled" | "past";

export function registerAudit(web: Web, deployments: Deployments) {
  const { registry, access, clock } = web.deps;
  const tz = web.deps.timeZone ?? "UTC";
  const { perms, engine } = deployments;
  registry.menuEntry({ id: "audit-mine", section: "menu.section.deployments", label: "nav.audit.mine", href: "/audit", permission: perms.audit, order: 45 });
  registry.menuEntry({ id: "audit-team", section: "menu.section.deployments", label: "nav.audit.team", href: "/audit/team", permission: perms.team, order: 46 });
  registry.menuEntry({ id: "audit-all", section: "menu.section.deployments", label: "nav.audit.all", href: "/audit/all", permission: perms.all, order: 47 });
  registry.menuEntry({ id: "audit-convergences", section: "menu.section.deployments", label: "nav.audit.convergences", href: "/audit/convergences", permission: perms.audit, order: 48 });

  function rows(ctx: RequestContext, scope: Scope, tab: Tab, q: string, convergence: number | null): AuditRow[] {
    const v = viewerOf(ctx);
    const now = clock.now();
    const where: string[] = [];
    const params: Record<string, string | number> = {};
    if (scope === "mine") {
      where.push("created_by = $me");
      params.me = v.id;
    } else if (scope === "team") {
      const team = deployments.teamOf(v.id).filter((id) => id !== v.id);
      where.push(team.length ? `created_by IN (${team.map(Number).join(",")})` : "0");
    } else if (scope === "convergences") {
      where.push("kind = 'convergence'");
      if (convergence !== null) {
        where.push("convergence_id = $conv");
        params.conv = convergence;
      }
    }
    if (scope !== "convergences") where.push("kind = 'deploy'");
    if (tab === "current") {
      where.push("status = 'running' AND start_at >= $since");
      params.since = now - DAY;
    } else if (tab === "scheduled") where.push("status = 'scheduled'");
    else where.push("status IN ('done', 'stopped', 'expired', 'running')" + (scope === "mine" ? " AND NOT (status = 'running' AND start_at >= $since2)" : ""));
    if (tab === "past" && scope === "mine") params.since2 = now - DAY;
    if (q) {
      where.push("(title LIKE $q ESCAPE '\\' OR created_by_login LIKE $q ESCAPE '\\' OR package_name LIKE $q ESCAPE '\\')");
      params.q = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    }
    const found = engine.repo.listDeployments(where.join(" AND "), params, 500).filter((d) => deployments.mayView(v, d));
    return found.map((d: DeploymentRow) => {
      const c = engine.repo.counts(d.id);
      return {
        id: d.id, title: d.title, kind: d.kind, status: d.status, user: d.created_by_login || "—",
        target: d.target_type === "group" ? ctx.t("audit.target.group", { name: d.target_label }) : d.target_label || ctx.t("audit.target.machines", { n: c.total }),
        start: formatForReader(d.start_at, tz, ctx.lang),
        outcome: ctx.t("audit.outcome", { succeeded: c.succeeded, failed: c.failed + c.expired, active: c.transferring + c.running + c.queued + c.waking + c.waiting }),
      };
    });
  }

  const TITLES: Record<Scope, MessageKey> = { mine: "audit.title.mine", team: "audit.title.team", all: "audit.title.all", convergences: "audit.title.convergences" };
  const PERM: Record<Scope, string> = { mine: perms.audit, team: perms.team, all: perms.all, convergences: perms.audit };

  for (const [path, scope] of [["/audit", "mine"], ["/audit/team", "team"], ["/audit/all", "all"], ["/audit/convergences", "convergences"]] as const) {
    const read = (ctx: RequestContext, query: Record<string, string | undefined>) => {
      if (scope === "convergences" && !access.can(viewerOf(ctx), perms.audit)) throw new Forbidden();
      const tabs: Tab[] = scope === "mine" ? ["current", "scheduled", "past"] : scope === "convergences" ? ["current", "past"] : ["past", "current", "scheduled"];
      const tab = (tabs.find((x) => x === query.tab) ?? tabs[0]) as Tab;
      const q = str(query.q).trim().slice(0, 100);
      const intervalRaw = Number(query.interval ?? DEFAULT_INTERVAL_MIN);
      const interval = [0, 1, 2, 5, 10, 30].includes(intervalRaw) ? intervalRaw : DEFAULT_INTERVAL_MIN;
      const conv = /^\d+$/.test(str(query.convergence)) ? Number(query.convergence) : null;
      return { tabs, tab, q, interval, conv };
    };
    web.route({
      method: "GET", path, permission: PERM[scope], kind: "page",
      handler: ({ ctx, query }) => {
        const r = read(ctx, query);
        const qs = (tab: Tab) => `?${new URLSearchParams({ tab, ...(r.q ? { q: r.q } : {}), interval: String(r.interval), ...(r.conv !== null ? { convergence: String(r.conv) } : {}) })}`;
        return web.page(ctx, {
          title: ctx.t(TITLES[scope]), current: path,
          body: (
            <AuditPage
              t={ctx.t} title={ctx.t(TITLES[scope])} base={path} q={r.q} interval={r.interval}
              tabs={r.tabs.map((tab) => ({ key: tab, label: ctx.t(`audit.tab.${tab}`), current: tab === r.tab, href: `${path}${qs(tab)}` }))}
              tableUrl={`${path}/table${qs(r.tab)}`} rows={rows(ctx, scope, r.tab, r.q, r.conv)}
              hidden={{ tab: r.tab, ...(r.conv !== null ? { convergence: String(r.conv) } : {}) }}
            />
          ),
        });
      },
    });
    web.route({
      method: "GET", path: `${path}/table`, permission: PERM[scope], kind: "fragment",
      handler: async ({ ctx, query }) => {
        const r = read(ctx, query);
        return html(await <AuditTable t={ctx.t} rows={rows(ctx, scope, r.tab, r.q, r.conv)} />);
      },
    });
  }
}
