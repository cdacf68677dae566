/**
 * @module views/deployments/pages
 * Launching a deployment (P5), the deployment rules (P4), convergences (P6) and the audit
 * lists (A1, A2) with their filters, refresh button and auto-refresh interval.
 */
import type { FieldErrors } from "../../src/errors.ts";
import type { MessageKey, T } from "../../src/i18n/index.ts";
import { CsrfField, Select, TextField, Check, type Option } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";

export function LaunchPage(props: {
  t: T; csrf: string; packages: Option[]; machines: { id: number; hostname: string; online: boolean }[]; groups: Option[];
  values: Record<string, string>; checked: Set<number>; errors?: FieldErrors; problem?: string;
}) {
  const { t, values } = props;
  return (
    <section>
      <div class="page-head">
        <h1 safe>{t("deploy.launch.title")}</h1>
      </div>
      <p class="muted" safe>{t("deploy.launch.intro")}</p>
      {when(props.problem, () => <Alert kind="error" text={props.problem!} />)}
      {when(props.packages.length === 0, () => <div class="empty-state" safe>{t("deploy.launch.noPackage")}</div>)}
      <form method="post" action="/deployments" class="form" id="launch-form">
        <CsrfField token={props.csrf} />
        <Select t={t} name="package" label={t("deploy.launch.package")} options={props.packages} selected={[values.package ?? ""]} errors={props.errors} />
        <Select t={t} name="section" label={t("deploy.launch.section")} options={(["install", "update", "uninstall", "launch"] as const).map((s) => ({ value: s, label: t(`deploy.section.${s}`) }))} selected={[values.section ?? "install"]} />
        <TextField t={t} name="title" label={t("deploy.launch.title.field")} value={values.title} maxlength={200} />
        <fieldset>
          <legend safe>{t("deploy.launch.machines")}</legend>
          <p class="hint" safe>{t("deploy.launch.machinesHelp")}</p>
          <div class="check-list">
            {props.machines.map((m) => (
              <label class="check">
                <input type="checkbox" name="machines" value={String(m.id)} checked={props.checked.has(m.id)} />
                <span safe>{`${m.hostname}${m.online ? "" : " (hors ligne / offline)"}`}</span>
              </label>
            ))}
          </div>
          {when(props.errors?.machines, () => <p class="field-error" safe>{t(props.errors!.machines!)}</p>)}
        </fieldset>
        {when(props.groups.length > 0, () => (
          <Select t={t} name="group" label={t("deploy.launch.group")} options={[{ value: "", label: t("deploy.launch.noGroup") }, ...props.groups]} selected={[values.group ?? ""]} />
        ))}
        <TextField t={t} name="start" type="datetime-local" label={t("deploy.launch.startAt")} value={values.start} errors={props.errors} />
        <TextField t={t} name="deadline" type="number" label={t("deploy.launch.deadline")} value={values.deadline ?? "24"} errors={props.errors} />
        <button type="submit" class="primary" safe>{t("deploy.launch.submit")}</button>
      </form>
    </section>
  );
}

export interface RuleView {
  id: number; position: number; name: string; description: string; enabled: boolean; os: string; group: string; windowStart: string; windowEnd: string; maxParallel: string;
}

export function RuleForm(props: { t: T; csrf: string; rule?: RuleView; errors?: FieldErrors; values?: Record<string, string> }) {
  const { t } = props;
  const v = props.values ?? (props.rule ? { name: props.rule.name, description: props.rule.description, os: props.rule.os, group: props.rule.group, windowStart: props.rule.windowStart, windowEnd: props.rule.windowEnd, maxParallel: props.rule.maxParallel, enabled: props.rule.enabled ? "on" : "" } : { enabled: "on" });
  return (
    <form method="post" action={props.rule ? `/deployments/rules/${props.rule.id}` : "/deployments/rules"} class="form" id="rule-form">
      <CsrfField token={props.csrf} />
      <TextField t={t} name="name" label={t("deploy.rules.name")} value={v.name} errors={props.errors} maxlength={100} required />
      <TextField t={t} name="description" label={t("deploy.rules.description")} value={v.description} maxlength={500} />
      <Select t={t} name="os" label={t("deploy.rules.os")} options={[{ value: "", label: t("deploy.rules.anyOs") }, { value: "windows", label: "Windows" }, { value: "linux", label: "Linux" }, { value: "darwin", label: "macOS" }]} selected={[v.os ?? ""]} />
      <TextField t={t} name="group" label={t("deploy.rules.group")} value={v.group} errors={props.errors} />
      <TextField t={t} name="windowStart" type="time" label={t("deploy.rules.windowStart")} value={v.windowStart} errors={props.errors} />
      <TextField t={t} name="windowEnd" type="time" label={t("deploy.rules.windowEnd")} value={v.windowEnd} errors={props.errors} />
      <TextField t={t} name="maxParallel" type="number" label={t("deploy.rules.maxParallel")} value={v.maxParallel} errors={props.errors} />
      <Check t={t} name="enabled" label={t("deploy.rules.enabled")} checked={v.enabled === "on"} />
      <button type="submit" class="primary" safe>{props.rule ? t("deploy.rules.save") : t("deploy.rules.add")}</button>
    </form>
  );
}

export function RulesPage(props: { t: T; csrf: string; rules: RuleView[]; safeForm: JSX.Element }) {
  const { t, safeForm } = props;
  const cond = (r: RuleView) =>
    [
      r.os ? t("deploy.rules.cond.os", { os: r.os }) : "",
      r.group ? t("deploy.rules.cond.group", { group: r.group }) : "",
      r.windowStart ? t("deploy.rules.cond.window", { start: r.windowStart, end: r.windowEnd }) : "",
      r.maxParallel ? t("deploy.rules.cond.parallel", { n: r.maxParallel }) : "",
      r.enabled ? "" : t("deploy.rules.cond.disabled"),
    ].filter(Boolean).join(" · ");
  const action = (r: RuleView, what: string, label: MessageKey, confirm?: string) => (
    <form method="post" action={`/deployments/rules/${r.id}/${what}`} class="inline">
      <CsrfField token={props.csrf} />
      <button type="submit" class="link-button" data-confirm={confirm} safe>{t(label)}</button>
    </form>
  );
  return (
    <section>
      <div class="page-head">
        <h1 safe>{t("deploy.rules.title")}</h1>
      </div>
      <p class="muted" safe>{t("deploy.rules.intro")}</p>
      {when(props.rules.length === 0, () => <div class="empty-state" safe>{t("deploy.rules.empty")}</div>)}
      {when(props.rules.length > 0, () => (
        <table class="data" id="rules">
          <thead>
            <tr>
              {(["deploy.rules.col.order", "deploy.rules.col.name", "deploy.rules.col.description", "deploy.rules.col.conditions", "deploy.rules.col.actions"] as const).map((k) => <th scope="col" safe>{t(k)}</th>)}
            </tr>
          </thead>
          <tbody>
            {props.rules.map((r, i) => (
              <tr>
                <td safe>{String(i + 1)}</td>
                <td safe>{r.name}</td>
                <td safe>{r.description}</td>
                <td safe>{cond(r)}</td>
                <td class="actions">
                  {when(i > 0, () => action(r, "up", "deploy.rules.up"))}
                  {when(i < props.rules.length - 1, () => action(r, "down", "deploy.rules.down"))}
                  <a href={`/deployments/rules/${r.id}/edit`} safe>{t("deploy.rules.edit")}</a>
                  {action(r, "delete", "deploy.rules.delete", t("deploy.rules.deleteConfirm"))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
      <h2 safe>{t("deploy.rules.add")}</h2>
      {safeForm}
    </section>
  );
}

export function ConvergencesPage(props: {
  t: T; csrf: string; packages: Option[]; items: { id: number; name: string; group: string; pkg: string; uninstall: boolean; enabled: boolean; deployments: number }[]; canManage: boolean; errors?: FieldErrors;
}) {
  const { t } = props;
  return (
    <section>
      <div class="page-head">
        <h1 safe>{t("deploy.conv.title")}</h1>
      </div>
      <p class="muted" safe>{t("deploy.conv.intro")}</p>
      {when(props.items.length === 0, () => <div class="empty-state" safe>{t("deploy.conv.empty")}</div>)}
      {when(props.items.length > 0, () => (
        <table class="data" id="convergences">
          <thead>
            <tr>
              {(["deploy.conv.name", "deploy.conv.group", "deploy.conv.package", "deploy.conv.uninstall", "deploy.conv.deployments", "deploy.rules.col.actions"] as const).map((k) => <th scope="col" safe>{t(k)}</th>)}
            </tr>
          </thead>
          <tbody>
            {props.items.map((c) => (
              <tr>
                <td safe>{`${c.name}${c.enabled ? "" : ` (${t("deploy.conv.disabled")})`}`}</td>
                <td safe>{c.group}</td>
                <td safe>{c.pkg}</td>
                <td>{c.uninstall ? "✓" : ""}</td>
                <td>
                  <a href={`/audit/convergences?convergence=${c.id}`} safe>{String(c.deployments)}</a>
                </td>
                <td class="actions">
                  {when(props.canManage, () => (
                    <form method="post" action={`/deployments/convergences/${c.id}/delete`} class="inline">
                      <CsrfField token={props.csrf} />
                      <button type="submit" class="link-button" data-confirm={t("deploy.rules.deleteConfirm")} safe>{t("deploy.conv.delete")}</button>
                    </form>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
      {when(props.canManage, () => (
        <form method="post" action="/deployments/convergences" class="form">
          <CsrfField token={props.csrf} />
          <TextField t={t} name="name" label={t("deploy.conv.name")} errors={props.errors} maxlength={100} required />
          <TextField t={t} name="group" label={t("deploy.conv.group")} errors={props.errors} required />
          <Select t={t} name="package" label={t("deploy.conv.package")} options={props.packages} selected={[]} errors={props.errors} />
          <Check t={t} name="uninstall" label={t("deploy.conv.uninstall")} checked={false} />
          <button type="submit" class="primary" safe>{t("deploy.conv.add")}</button>
        </form>
      ))}
    </section>
  );
}

export interface AuditRow {
  id: number; title: string; kind: string; target: string; start: string; status: string; outcome: string; user: string;
}

export function AuditTable(props: { t: T; rows: AuditRow[] }) {
  const { t } = props;
  if (!props.rows.length) return <div class="empty-state" safe>{t("audit.empty")}</div>;
  return (
    <table class="data" id="audit-rows">
      <thead>
        <tr>
          {(["audit.col.name", "audit.col.type", "audit.col.target", "audit.col.start", "audit.col.state", "audit.col.progress", "audit.col.user"] as const).map((k) => <th scope="col" safe>{t(k)}</th>)}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr>
            <td>
              <a href={`/deployments/${r.id}`} safe>{r.title}</a>
            </td>
            <td safe>{t(`audit.type.${r.kind}` as MessageKey)}</td>
            <td safe>{r.target}</td>
            <td safe>{r.start}</td>
            <td safe>{t(`deploy.status.${r.status}` as MessageKey)}</td>
            <td safe>{r.outcome}</td>
            <td safe>{r.user}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function AuditPage(props: {
  t: T; title: string; base: string; tabs: { key: string; label: string; current: boolean; href: string }[]; q: string; interval: number; tableUrl: string; rows: AuditRow[]; hidden: Record<string, string>;
}) {
  const { t } = props;
  const auto = props.interval > 0 ? { "hx-get": props.tableUrl, "hx-trigger": `every ${props.interval * 60}s`, "hx-swap": "innerHTML" } : {};
  return (
    <section>
      <div class="page-head">
        <h1 safe>{props.title}</h1>
      </div>
      <nav class="tabs">
        {props.tabs.map((tab) => (
          <a href={tab.href} aria-current={tab.current ? "page" : undefined} safe>{tab.label}</a>
        ))}
      </nav>
      <form method="get" action={props.base} class="toolbar" id="audit-filter">
        {Object.entries(props.hidden).map(([k, v]) => <input type="hidden" name={k} value={v} />)}
        <label for="audit-q" safe>{t("audit.filter.q")}</label>
        <input id="audit-q" name="q" type="search" value={props.q} maxlength="100" />
        <label for="audit-interval" safe>{t("audit.interval")}</label>
        <select id="audit-interval" name="interval">
          {[0, 1, 2, 5, 10, 30].map((n) => (
            <option value={String(n)} selected={n === props.interval} safe>{n === 0 ? t("audit.interval.off") : t("audit.interval.min", { n })}</option>
          ))}
        </select>
        <button type="submit" safe>{t("audit.filter.apply")}</button>
        <button type="button" id="audit-refresh" hx-get={props.tableUrl} hx-target="#audit-table" hx-swap="innerHTML" safe>{t("audit.refresh")}</button>
      </form>
      <div id="audit-table" {...auto}>
        <AuditTable t={t} rows={props.rows} />
      </div>
    </section>
  );
}
