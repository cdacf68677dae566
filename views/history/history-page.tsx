/**
 * @module views/history/history-page
 * The history page (SPEC L): the filter form (module, period, criterion, "Filter logs",
 * search as you type, entries per page), the results fragment, and, for those allowed,
 * the retention form. The form's requests replace only `#history-results` and put the
 * filters in the address bar, so reload and back show the same thing. Each field has an
 * error slot that a refused request fills (422) and a valid one empties.
 */
import type { Children } from "@kitajs/html";
import type { FieldErrors } from "../../src/errors.ts";
import type { T } from "../../src/i18n/index.ts";
import type { Option } from "../shell/form.tsx";
import { when } from "../shell/layout.tsx";
import { ErrorSlot, HistoryResults, errorSlotId, type ResultsProps } from "./history-results.tsx";
import { RetentionForm, type RetentionProps } from "./retention-form.tsx";

export interface FilterValues {
  module: string;
  start: string;
  end: string;
  criterion: string;
  q: string;
  size: string;
}

export interface FilterFormProps {
  t: T;
  values: FilterValues;
  modules: Option[];
  criteria: Option[];
  sizes: readonly number[];
  timeZone: string;
  errors?: FieldErrors;
}

export interface HistoryPageProps extends FilterFormProps {
  /** False when the reader may read no module's logs: a notice replaces the form. */
  hasModules: boolean;
  /** Null when the filters were refused. */
  results: Omit<ResultsProps, "t"> | null;
  retention: Omit<RetentionProps, "t"> | null;
}

export function HistoryPage(props: HistoryPageProps) {
  const { t } = props;
  return (
    <section class="history">
      <div class="page-head">
        <h1 safe>{t("history.title")}</h1>
      </div>
      <p class="muted" safe>
        {t("history.intro")}
      </p>
      {props.hasModules ? (
        <>
          <FilterForm {...props} />
          {props.results ? <HistoryResults t={t} {...props.results} /> : <div id="history-results" class="history-results"></div>}
        </>
      ) : (
        <p class="empty-state" safe>
          {t("history.noModules")}
        </p>
      )}
      {when(props.retention, () => <RetentionForm t={t} {...props.retention!} />)}
    </section>
  );
}

function Field(props: { t: T; field: keyof FilterValues; label: string; errors?: FieldErrors; children?: Children }) {
  const key = props.errors?.[props.field];
  return (
    <div class="field history-field">
      <label for={`history-${props.field}`} safe>
        {props.label}
      </label>
      {props.children}
      <ErrorSlot field={props.field} message={key ? props.t(key) : undefined} />
    </div>
  );
}

function Choice(props: { field: keyof FilterValues; options: Option[]; selected: string }) {
  return (
    <select id={`history-${props.field}`} name={props.field} aria-describedby={errorSlotId(props.field)}>
      {props.options.map((o) => (
        <option value={o.value} selected={o.value === props.selected} safe>
          {o.label}
        </option>
      ))}
    </select>
  );
}

export function FilterForm(props: FilterFormProps) {
  const { t, values } = props;
  const f = { t, errors: props.errors };
  return (
    <form
      id="history-filters"
      class="card history-filters"
      method="get"
      action="/history"
      hx-get="/history"
      hx-target="#history-results"
      hx-swap="outerHTML"
      hx-push-url="true"
      hx-trigger="submit, change from:#history-size, input changed delay:400ms from:#history-q"
      aria-label={t("history.filters")}
    >
      <div class="history-grid">
        <Field {...f} field="module" label={t("history.filter.module")}>
          <Choice field="module" options={[{ value: "", label: t("history.filter.allModules") }, ...props.modules]} selected={values.module} />
        </Field>
        <Field {...f} field="start" label={t("history.filter.start")}>
          <input id="history-start" name="start" type="datetime-local" step="1" value={values.start} aria-describedby="history-zone history-start-error" />
        </Field>
        <Field {...f} field="end" label={t("history.filter.end")}>
          <input id="history-end" name="end" type="datetime-local" step="1" value={values.end} aria-describedby="history-zone history-end-error" />
        </Field>
        <Field {...f} field="criterion" label={t("history.filter.criterion")}>
          <Choice field="criterion" options={[{ value: "", label: t("history.filter.anyCriterion") }, ...props.criteria]} selected={values.criterion} />
        </Field>
      </div>
      <p class="hint" id="history-zone" safe>
        {t("history.filter.zone", { zone: props.timeZone })}
      </p>
      <div class="history-grid history-bar">
        <Field {...f} field="size" label={t("history.filter.size")}>
          <Choice field="size" options={props.sizes.map((n) => ({ value: String(n), label: String(n) }))} selected={values.size} />
        </Field>
        <Field {...f} field="q" label={t("history.filter.search")}>
          <input id="history-q" name="q" type="search" maxlength="200" value={values.q} placeholder={t("history.filter.searchHint")} aria-describedby="history-q-error" />
        </Field>
        <div class="form-actions">
          <button type="submit" class="primary" safe>
            {t("history.filter.submit")}
          </button>
        </div>
      </div>
    </form>
  );
}
