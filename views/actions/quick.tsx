/**
 * @module views/actions/quick
 * Custom quick actions (SPEC C12): the list, the create/edit form, choosing machines to
 * run on, a run's live results (one row per machine, replaced by id as results arrive),
 * and the quick action logs.
 */
import type { FieldErrors } from "../../src/errors.ts";
import type { MessageKey, T } from "../../src/i18n/index.ts";
import { CsrfField, FieldError, Hint, TextField } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";

export interface QaListRow { id: number; name: string; description: string; os: string; interpreter: string }

const osLabel = (t: T, os: string) => t(`qa.os.${os}` as MessageKey);
const interpLabel = (t: T, i: string) => t(`qa.interp.${i}` as MessageKey);

export function QuickActionsPage(props: { t: T; csrf: string; rows: QaListRow[]; canEdit: boolean; canRun: boolean; notice?: string; group?: { id: number; name: string; count: number } }) {
  const { t } = props;
  return (
    <section class="stack">
      <div class="page-head">
        <h1 safe>{t("qa.title")}</h1>
        {when(props.canEdit, () => (
          <a class="button primary" href="/quick-actions/new" safe>
            {t("qa.add")}
          </a>
        ))}
      </div>
      {when(props.notice, () => <Alert kind="success" text={props.notice!} />)}
      {when(props.rows.length === 0, () => (
        <p class="empty-state" safe>
          {t("qa.empty")}
        </p>
      ))}
      {when(props.rows.length > 0, () => (
        <table class="data" id="quick-actions">
          <thead>
            <tr>
              <th safe>{t("qa.col.name")}</th>
              <th safe>{t("qa.col.description")}</th>
              <th safe>{t("qa.col.os")}</th>
              <th safe>{t("qa.col.interpreter")}</th>
              <th safe>{t("qa.col.actions")}</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr>
                <td safe>{r.name}</td>
                <td safe>{r.description}</td>
                <td safe>{osLabel(t, r.os)}</td>
                <td safe>{interpLabel(t, r.interpreter)}</td>
                <td class="row-actions">
                  {when(props.canRun, () => (
                    <a class="button" href={`/quick-actions/${r.id}/run${props.group ? `?group=${props.group.id}` : ""}`} safe>
                      {t("qa.run")}
                    </a>
                  ))}
                  {when(props.canEdit, () => (
                    <>
                      <a class="button" href={`/quick-actions/${r.id}`} safe>
                        {t("qa.editShort")}
                      </a>
                      <form method="post" action={`/quick-actions/${r.id}/delete`} class="inline-form">
                        <CsrfField token={props.csrf} />
                        <button type="submit" class="link-button danger" data-confirm={t("qa.confirmDelete", { name: r.name })} safe>
                          {t("qa.delete")}
                        </button>
                      </form>
                    </>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </section>
  );
}

export function QuickActionForm(props: { t: T; csrf: string; id: number | null; values: Record<string, string>; errors?: FieldErrors }) {
  const { t, values: v } = props;
  const action = props.id ? `/quick-actions/${props.id}` : "/quick-actions";
  return (
    <section class="stack narrow">
      <h1 safe>{props.id ? t("qa.edit", { name: v.name ?? "" }) : t("qa.new")}</h1>
      {when(props.errors && Object.keys(props.errors).length, () => <Alert kind="error" text={t("error.invalid")} />)}
      <form method="post" action={action} class="form card">
        <CsrfField token={props.csrf} />
        <div class="field">
          <label for="os" safe>
            {t("qa.field.os")}
          </label>
          <select id="os" name="os">
            {["linux", "windows", "darwin"].map((os) => (
              <option value={os} selected={v.os === os} safe>
                {osLabel(t, os)}
              </option>
            ))}
          </select>
          <FieldError t={t} name="os" errors={props.errors} />
        </div>
        <TextField t={t} name="name" label={t("qa.field.name")} hint={t("qa.field.nameHint")} value={v.name} errors={props.errors} required maxlength={100} />
        <div class="field">
          <label for="interpreter" safe>
            {t("qa.field.interpreter")}
          </label>
          <select id="interpreter" name="interpreter">
            {["shell", "powershell", "cmd", "python"].map((i) => (
              <option value={i} selected={v.interpreter === i} safe>
                {interpLabel(t, i)}
              </option>
            ))}
          </select>
          <FieldError t={t} name="interpreter" errors={props.errors} />
        </div>
        <div class="field">
          <label for="script" safe>
            {t("qa.field.script")}
          </label>
          <textarea id="script" name="script" rows="8" class="mono" maxlength="32768" required aria-describedby="script-hint" safe>
            {v.script ?? ""}
          </textarea>
          <Hint name="script" text={t("qa.field.scriptHint")} />
          <FieldError t={t} name="script" errors={props.errors} />
        </div>
        <div class="field">
          <label for="description" safe>
            {t("qa.field.description")}
          </label>
          <textarea id="description" name="description" rows="2" maxlength="500" safe>
            {v.description ?? ""}
          </textarea>
          <FieldError t={t} name="description" errors={props.errors} />
        </div>
        <TextField t={t} name="timeoutSeconds" type="number" label={t("qa.field.timeout")} hint={t("qa.field.timeoutHint")} value={v.timeoutSeconds ?? "300"} errors={props.errors} />
        <div class="form-actions">
          <button type="submit" class="primary" safe>
            {t("qa.save")}
          </button>
        </div>
      </form>
    </section>
  );
}

export interface PickRow { id: number; hostname: string; online: boolean; ip: string; checked?: boolean }

export function RunPickPage(props: { t: T; csrf: string; qa: { id: number; name: string; os: string; script: string }; machines: PickRow[]; error?: string }) {
  const { t } = props;
  return (
    <section class="stack">
      <h1 safe>{t("qa.run.title", { name: props.qa.name })}</h1>
      <pre class="mono script-preview" safe>
        {props.qa.script}
      </pre>
      {when(props.error, () => <Alert kind="error" text={props.error!} />)}
      {when(props.machines.length === 0, () => (
        <p class="empty-state" safe>
          {t("qa.run.none")}
        </p>
      ))}
      {when(props.machines.length > 0, () => (
        <form method="post" action={`/quick-actions/${props.qa.id}/run`} class="card">
          <CsrfField token={props.csrf} />
          <fieldset>
            <legend safe>{t("qa.run.pick")}</legend>
            <p class="hint" safe>
              {t("qa.run.pickHint", { os: osLabel(t, props.qa.os) })}
            </p>
            <label class="check">
              <input type="checkbox" data-select-all="machines" />
              <span safe>{t("qa.run.selectAll")}</span>
            </label>
            <ul class="pick-list">
              {props.machines.map((m) => (
                <li>
                  <label class="check">
                    <input type="checkbox" name="machines" value={String(m.id)} checked={m.checked === true} />
                    <span safe>{`${m.hostname}${m.ip ? ` (${m.ip})` : ""}`}</span>
                    <span class={m.online ? "badge online" : "badge offline"} safe>
                      {m.online ? t("computers.filter.online") : t("computers.filter.offline")}
                    </span>
                  </label>
                </li>
              ))}
            </ul>
          </fieldset>
          <button type="submit" class="primary" safe>
            {t("qa.run.submit")}
          </button>
        </form>
      ))}
    </section>
  );
}

export interface ResultView {
  runId: number;
  machineId: number;
  hostname: string;
  status: string;
  exitCode: number | null;
  output: string;
  truncated: boolean;
  durationMs: number | null;
  error: string;
}

export function ResultRow(props: { t: T; r: ResultView }) {
  const { t, r } = props;
  const pending = r.status === "queued" || r.status === "running";
  return (
    <tr id={`qa-result-${r.runId}-${r.machineId}`} data-status={r.status}>
      <td>
        <a href={`/computers/${r.machineId}`} safe>
          {r.hostname}
        </a>
      </td>
      <td>
        <span class={`badge status-${r.status}`} safe>
          {t(`qa.status.${r.status}` as MessageKey)}
        </span>
      </td>
      <td class="num" safe>
        {r.exitCode === null ? "—" : String(r.exitCode)}
      </td>
      <td class="num" safe>
        {r.durationMs === null ? "—" : t("qa.result.ms", { ms: r.durationMs })}
      </td>
      <td>
        {when(!pending && (r.output || r.error), () => (
          <pre class="mono output" safe>
            {r.output || r.error}
          </pre>
        ))}
        {when(r.output && r.error, () => (
          <p class="muted small" safe>
            {r.error}
          </p>
        ))}
        {when(r.truncated, () => (
          <p class="muted small truncated" safe>
            {t("qa.result.truncated")}
          </p>
        ))}
      </td>
    </tr>
  );
}

export function RunPage(props: { t: T; title: string; script: string; results: ResultView[] }) {
  const { t } = props;
  return (
    <section class="stack" data-live-page>
      <div class="page-head">
        <h1 safe>{props.title}</h1>
        <span class="live-status" id="live-status" data-offline={t("dashboard.offline")} data-online={t("dashboard.live")}></span>
      </div>
      <details>
        <summary safe>{t("qa.result.script")}</summary>
        <pre class="mono" safe>
          {props.script}
        </pre>
      </details>
      <table class="data" id="qa-results">
        <thead>
          <tr>
            <th safe>{t("qa.result.col.machine")}</th>
            <th safe>{t("qa.result.col.status")}</th>
            <th safe>{t("qa.result.col.exit")}</th>
            <th safe>{t("qa.result.col.duration")}</th>
            <th safe>{t("qa.result.col.output")}</th>
          </tr>
        </thead>
        <tbody>
          {props.results.map((r) => (
            <ResultRow t={t} r={r} />
          ))}
        </tbody>
      </table>
    </section>
  );
}

export interface RunListRow { id: number; when: string; name: string; user: string; total: number; ok: number; failed: number; pending: number }

export function RunsPage(props: { t: T; rows: RunListRow[] }) {
  const { t } = props;
  return (
    <section class="stack">
      <h1 safe>{t("qa.runs.title")}</h1>
      {when(props.rows.length === 0, () => (
        <p class="empty-state" safe>
          {t("qa.runs.empty")}
        </p>
      ))}
      {when(props.rows.length > 0, () => (
        <table class="data">
          <thead>
            <tr>
              <th safe>{t("qa.runs.col.when")}</th>
              <th safe>{t("qa.runs.col.action")}</th>
              <th safe>{t("qa.runs.col.user")}</th>
              <th safe>{t("qa.runs.col.machines")}</th>
              <th safe>{t("qa.runs.col.result")}</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr>
                <td>
                  <a href={`/quick-actions/runs/${r.id}`} safe>
                    {r.when}
                  </a>
                </td>
                <td safe>{r.name}</td>
                <td safe>{r.user}</td>
                <td class="num" safe>
                  {String(r.total)}
                </td>
                <td safe>{t("qa.runs.counts", { ok: r.ok, failed: r.failed, pending: r.pending })}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </section>
  );
}
