/**
 * @module views/machine-groups/import
 * The import of a static group (SPEC C7) in two steps: the file (with the group's name and
 * favourite), then what each column holds with the first rows shown, a check that lists
 * every row in error with its reason (`#import-preview`), and the creation.
 */
import type { T } from "../../src/i18n/index.ts";
import type { MessageKey } from "../../src/i18n/index.ts";
import { Check, CsrfField, TextField } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";

export function ImportUploadForm(props: { t: T; csrf: string; values: { name: string; favourite: boolean }; error?: string; errors?: Record<string, MessageKey> }) {
  const { t } = props;
  return (
    <form class="card form" method="post" action="/machine-groups/import" enctype="multipart/form-data">
      <h1 safe>{t("mgroups.import.title")}</h1>
      <p class="hint" safe>{t("mgroups.import.intro")}</p>
      {when(props.error, () => <Alert kind="error" text={props.error!} />)}
      <CsrfField token={props.csrf} />
      <TextField t={t} name="name" label={t("mgroups.name")} value={props.values.name} required maxlength={100} errors={props.errors} />
      <Check t={t} name="favourite" label={t("mgroups.favourite")} hint={t("mgroups.favouriteHint")} checked={props.values.favourite} />
      <div class="field">
        <label for="file" safe>{t("mgroups.import.file")}</label>
        <input id="file" name="file" type="file" required accept=".csv,.txt,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" />
      </div>
      <div class="form-actions">
        <button type="submit" class="primary" safe>{t("mgroups.import.next")}</button>
        <a href="/machine-groups" safe>{t("mgroups.cancel")}</a>
      </div>
    </form>
  );
}

export interface MappingProps {
  t: T;
  csrf: string;
  token: string;
  name: string;
  favourite: boolean;
  fileName: string;
  sheet?: string;
  rowCount: number;
  sample: string[][];
  columns: { value: string; label: string }[];
  guessed: string[];
  hasHeader: boolean;
  error?: string;
  safePreview?: string;
}

export function ImportMapping(props: MappingProps) {
  const { t } = props;
  const safePreview = props.safePreview ?? "";
  const width = Math.max(...props.sample.map((r) => r.length), props.guessed.length);
  return (
    <form class="card form wide" method="post" action={`/machine-groups/import/${props.token}`} id="import-mapping">
      <h1 safe>{t("mgroups.import.mapTitle")}</h1>
      {when(props.error, () => <Alert kind="error" text={props.error!} />)}
      <p safe>{t("mgroups.import.fileInfo", { rows: props.rowCount, file: props.fileName })}</p>
      {when(props.sheet, () => <p class="hint" safe>{t("mgroups.import.sheet", { sheet: props.sheet! })}</p>)}
      <p class="hint" safe>{t("mgroups.import.mapHint")}</p>
      <CsrfField token={props.csrf} />
      <input type="hidden" name="name" value={props.name} />
      {when(props.favourite, () => <input type="hidden" name="favourite" value="on" />)}
      <Check t={t} name="header" label={t("mgroups.import.header")} checked={props.hasHeader} />
      <div class="table-scroll">
        <table class="data">
          <thead>
            <tr>
              {Array.from({ length: width }, (_, i) => (
                <th scope="col">
                  <label for={`col-${i}`} class="visually-hidden" safe>{t("mgroups.import.column", { n: i + 1 })}</label>
                  <select id={`col-${i}`} name={`col${i}`}>
                    {props.columns.map((c) => (
                      <option value={c.value} selected={(props.guessed[i] ?? "ignore") === c.value} safe>{c.label}</option>
                    ))}
                  </select>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.sample.map((r) => (
              <tr>
                {Array.from({ length: width }, (_, i) => (
                  <td safe>{r[i] ?? ""}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="toolbar">
        <button type="button" id="import-check" hx-post={`/machine-groups/import/${props.token}/preview`} hx-target="#import-preview" hx-swap="innerHTML" safe>{t("mgroups.import.preview")}</button>
      </div>
      <div id="import-preview" aria-live="polite">{safePreview}</div>
      <Check t={t} name="allowPartial" label={t("mgroups.import.allowPartial")} checked={false} />
      <div class="form-actions">
        <button type="submit" class="primary" safe>{t("mgroups.import.create")}</button>
        <a href="/machine-groups" safe>{t("mgroups.cancel")}</a>
      </div>
    </form>
  );
}

export interface CheckedRow {
  row: number;
  values: string;
  result: string;
  bad: boolean;
}

export function ImportCheck(props: { t: T; matched: number; bad: CheckedRow[]; good: CheckedRow[] }) {
  const { t } = props;
  return (
    <div class="import-check">
      <p id="import-summary" safe>{t("mgroups.import.summary", { matched: props.good.length, bad: props.bad.length })}</p>
      {props.bad.length === 0 ? <Alert kind="success" text={t("mgroups.import.allGood")} /> : <RowsTable t={t} caption={t("mgroups.import.badRows")} rows={props.bad} id="import-bad" />}
      {when(props.good.length, () => (
        <details>
          <summary safe>{t("mgroups.import.goodRows")}</summary>
          <RowsTable t={t} caption={t("mgroups.import.goodRows")} rows={props.good.slice(0, 500)} id="import-good" />
        </details>
      ))}
    </div>
  );
}

function RowsTable(props: { t: T; caption: string; rows: CheckedRow[]; id: string }) {
  const { t } = props;
  return (
    <table class="data" id={props.id}>
      <caption safe>{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col" safe>{t("mgroups.import.col.row")}</th>
          <th scope="col" safe>{t("mgroups.import.col.values")}</th>
          <th scope="col" safe>{t("mgroups.import.col.result")}</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr class={r.bad ? "bad" : undefined}>
            <td safe>{String(r.row)}</td>
            <td safe>{r.values}</td>
            <td safe>{r.result}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
