/**
 * @module views/deployments/follow
 * Following a deployment live (SPEC P5) and the audit's task detail (A3): its facts, the
 * progress by outcome, download and rights errors, one row per machine with its state and
 * the reason, the per-machine log on demand, stop and "relaunch the failed ones". Rows and
 * the summary carry ids: the live stream replaces them in place ("swap" events).
 */
import type { T } from "../../src/i18n/index.ts";
import type { MessageKey } from "../../src/i18n/index.ts";
import { CsrfField } from "../shell/form.tsx";
import { when } from "../shell/layout.tsx";
import type { LiveTail } from "../../src/features/deployments/live-output.ts";
import { LiveTailView } from "./live.tsx";

export interface FollowTarget {
  id: number;
  hostname: string;
  machineId: number | null;
  state: string;
  step: number | null;
  stepLabel: string;
  reason: string | null;
  detail: string;
  exitCode: number | null;
  bytesDone: number;
  bytesTotal: number;
  attempt: number;
  updated: string;
  /** The running step's output so far (its newest lines), while it runs. */
  live?: LiveTail | null;
  lang?: "fr" | "en";
  /** Postponed by its user: until when, and "k of N" (./prompts.tsx). */
  deferredUntil?: string | null;
  deferrals?: { used: number; max: number } | null;
}

export interface FollowSummary {
  id: number;
  status: string;
  counts: Record<"queued" | "waking" | "waiting" | "transferring" | "running" | "succeeded" | "failed" | "stopped" | "expired" | "total", number>;
  reasons: Record<string, number>;
  /** Machines waiting for their users' postponement to end (among the pending ones). */
  deferred?: number;
}

export interface FollowProps {
  t: T;
  csrf: string;
  d: { id: number; title: string; pkg: string; section: string; start: string; deadline: string; by: string; target: string; transfer: string };
  summary: FollowSummary;
  targets: FollowTarget[];
  serverLog: { at: string; text: string }[];
  canManage: boolean;
}

export function stateLabel(t: T, state: string, step: number | null): string {
  return state === "running" ? t("deploy.state.running", { step: step ?? 0 }) : t(`deploy.state.${state}` as MessageKey);
}

export function Summary(props: { t: T; s: FollowSummary }) {
  const { t, s } = props;
  const c = s.counts;
  const done = c.succeeded + c.failed + c.stopped + c.expired;
  const errors = (["download", "checksum", "permission"] as const).filter((r) => s.reasons[r]).map((r) => `${t(`deploy.reason.${r}`)}: ${s.reasons[r]}`);
  return (
    <div id={`deploy-summary-${s.id}`} class="deploy-summary">
      <p>
        <strong safe>{t(`deploy.status.${s.status}` as MessageKey)}</strong>{" "}
        <span class="deploy-progress" safe>
          {t("deploy.follow.progress", { done, total: c.total, succeeded: c.succeeded, failed: c.failed + c.expired, active: c.transferring + c.running, pending: c.queued + c.waking + c.waiting })}
        </span>
      </p>
      <progress max={String(Math.max(c.total, 1))} value={String(done)} aria-label={t("deploy.follow.col.progress")}></progress>
      {when(s.deferred, () => (
        <p class="deploy-deferred-count" safe>
          {t("deploy.follow.deferred", { n: s.deferred ?? 0 })}
        </p>
      ))}
      <p class="muted" safe>
        {t("audit.detail.errors")}: {errors.length ? errors.join(", ") : t("audit.detail.none")}
      </p>
    </div>
  );
}

export function TargetRow(props: { t: T; deploymentId: number; r: FollowTarget }) {
  const { t, r } = props;
  const pct = r.bytesTotal > 0 ? Math.floor((r.bytesDone / r.bytesTotal) * 100) : null;
  return (
    <tr id={`deploy-target-${r.id}`} data-state={r.state}>
      <td>
        {r.machineId !== null ? (
          <a href={`/computers/${r.machineId}`} safe>
            {r.hostname}
          </a>
        ) : (
          <span safe>{r.hostname}</span>
        )}
      </td>
      <td>
        <span class={`state deploy-state-${r.deferredUntil ? "deferred" : r.state}`} safe>
          {r.deferredUntil ? t("deploy.state.deferred") : stateLabel(t, r.state, r.step)}
        </span>
        {when(r.deferredUntil && r.deferrals, () => (
          <span class="muted small" safe>{` ${t("deploy.deferral.until", { until: r.deferredUntil!, used: r.deferrals!.used, max: r.deferrals!.max })}`}</span>
        ))}
        {when(r.stepLabel && r.state === "running", () => (
          <span class="muted small" safe>{` ${r.stepLabel}`}</span>
        ))}
        {when(r.live && r.state === "running" && r.live.step === r.step && r.live.lines.length, () => <LiveTailView t={t} lang={r.lang ?? "fr"} targetId={r.id} tail={r.live!} />)}
      </td>
      <td>
        {when(r.reason, () => <strong safe>{t(`deploy.reason.${r.reason}` as MessageKey)}</strong>)}
        {when(r.detail, () => (
          <span class="small" safe>{` ${r.detail}`}</span>
        ))}
        {when(r.exitCode !== null, () => <span class="mono small" safe>{` (code ${r.exitCode})`}</span>)}
      </td>
      <td>{pct !== null ? `${pct} % (${Number(r.bytesDone)} / ${Number(r.bytesTotal)})` : ""}</td>
      <td safe>{r.updated}</td>
      <td>
        <button type="button" class="link-button" hx-get={`/deployments/${props.deploymentId}/targets/${r.id}/log`} hx-target={`#deploy-log-${r.id}`} hx-swap="innerHTML" safe>
          {t("deploy.follow.logs")}
        </button>
        <div id={`deploy-log-${r.id}`}></div>
      </td>
    </tr>
  );
}

export function LogList(props: { t: T; entries: { at: string; kind: string; text: string; exitCode: number | null }[] }) {
  if (!props.entries.length) return <p class="muted" safe>{props.t("deploy.follow.noLogs")}</p>;
  return (
    <ol class="deploy-log">
      {props.entries.map((e) => (
        <li class={`log-${e.kind}`}>
          <span class="mono small" safe>
            {e.at}
          </span>{" "}
          <span class="small" safe>{`[${e.kind}${e.exitCode !== null ? ` ${e.exitCode}` : ""}]`}</span>
          <pre safe>{e.text}</pre>
        </li>
      ))}
    </ol>
  );
}

export function FollowPage(props: FollowProps) {
  const { t, d } = props;
  const active = props.summary.status === "scheduled" || props.summary.status === "running";
  const failed = props.summary.counts.failed + props.summary.counts.expired;
  return (
    <section data-live-page data-deployment={String(d.id)}>
      <div class="page-head">
        <h1 safe>{t("deploy.follow.title", { name: d.title })}</h1>
        <span id="live-status" class="muted small" data-online={t("deploy.follow.live")} data-offline="…"></span>
      </div>
      <dl class="facts">
        <dt safe>{t("deploy.follow.package")}</dt>
        <dd safe>{`${d.pkg} · ${d.section} · ${d.transfer}`}</dd>
        <dt safe>{t("audit.col.target")}</dt>
        <dd safe>{d.target}</dd>
        <dt safe>{t("deploy.follow.start")}</dt>
        <dd safe>{d.start}</dd>
        <dt safe>{t("deploy.follow.deadline")}</dt>
        <dd safe>{d.deadline}</dd>
        <dt safe>{t("deploy.follow.by")}</dt>
        <dd safe>{d.by}</dd>
      </dl>
      <Summary t={t} s={props.summary} />
      {when(props.canManage, () => (
        <div class="toolbar">
          {when(active, () => (
            <form method="post" action={`/deployments/${d.id}/stop`}>
              <CsrfField token={props.csrf} />
              <button type="submit" class="danger" data-confirm={t("deploy.follow.stopConfirm")} safe>
                {t("deploy.follow.stop")}
              </button>
            </form>
          ))}
          {when(failed > 0, () => (
            <form method="post" action={`/deployments/${d.id}/relaunch`}>
              <CsrfField token={props.csrf} />
              <button type="submit" id="relaunch-failed" safe>
                {t("deploy.follow.relaunch")}
              </button>
            </form>
          ))}
        </div>
      ))}
      {when(props.targets.length === 0, () => <div class="empty-state" safe>{t("deploy.follow.empty")}</div>)}
      {when(props.targets.length > 0, () => (
        <div class="table-scroll">
          <table class="data" id="deploy-targets">
            <thead>
              <tr>
                {(["deploy.follow.col.machine", "deploy.follow.col.state", "deploy.follow.col.reason", "deploy.follow.col.progress", "deploy.follow.col.updated", "deploy.follow.logs"] as const).map((k) => (
                  <th scope="col" safe>
                    {t(k)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {props.targets.map((r) => (
                <TargetRow t={t} deploymentId={d.id} r={r} />
              ))}
            </tbody>
          </table>
        </div>
      ))}
      <details>
        <summary safe>{t("deploy.follow.serverLog")}</summary>
        <LogList t={t} entries={props.serverLog.map((l) => ({ ...l, kind: "server", exitCode: null }))} />
      </details>
    </section>
  );
}
