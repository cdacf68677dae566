/**
 * @module views/machine-groups/forms
 * The editors: a static group (name, favourite, machines picked: the members ticked, a
 * search that lists more to tick, `#mgroup-picker`) and a dynamic group (name, favourite,
 * the query builder that static/machine-groups.js draws from the field table in its data
 * attributes, the query as JSON beside it — what is posted, and what works without
 * JavaScript — and the live preview `#query-preview`).
 */
import type { FieldErrors } from "../../src/errors.ts";
import type { T } from "../../src/i18n/index.ts";
import { Check, CsrfField, TextField } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";

export interface Pickable {
  id: number;
  hostname: string;
  detail: string;
}

interface Common {
  t: T;
  csrf: string;
  id: number | null;
  values: { name: string; description: string; favourite: boolean };
  errors?: FieldErrors;
  error?: string;
}

function Head(props: Common & { title: string }) {
  const { t, values: v, errors } = props;
  return (
    <>
      <h1 safe>{props.title}</h1>
      {when(props.error, () => <Alert kind="error" text={props.error!} />)}
      <CsrfField token={props.csrf} />
      <TextField t={t} name="name" label={t("mgroups.name")} value={v.name} required maxlength={100} errors={errors} />
      <TextField t={t} name="description" label={t("mgroups.description")} value={v.description} maxlength={500} errors={errors} />
      <Check t={t} name="favourite" label={t("mgroups.favourite")} hint={t("mgroups.favouriteHint")} checked={v.favourite} />
    </>
  );
}

export function StaticForm(props: Common & { members: Pickable[] }) {
  const { t } = props;
  return (
    <form class="card form wide" method="post" action={props.id ? `/machine-groups/${props.id}` : "/machine-groups/static"}>
      <Head {...props} title={props.id ? t("mgroups.editTitle", { name: props.values.name }) : t("mgroups.newStatic")} />
      <fieldset>
        <legend safe>{t("mgroups.pick.title")}</legend>
        <p class="hint" safe>{t("mgroups.pick.hint")}</p>
        <h3 safe>{t("mgroups.pick.current")}</h3>
        <PickList rows={props.members} checked id="mgroup-current" />
        <label for="mgroup-pick-search" safe>{t("mgroups.pick.search")}</label>
        <input id="mgroup-pick-search" type="search" name="q" hx-get="/machine-groups/picker" hx-trigger="input changed delay:300ms, search" hx-target="#mgroup-picker" hx-swap="outerHTML" />
        <div id="mgroup-picker"></div>
      </fieldset>
      <div class="form-actions">
        <button type="submit" class="primary" safe>{t("mgroups.save")}</button>
        <a href={props.id ? `/machine-groups/${props.id}` : "/machine-groups"} safe>{t("mgroups.cancel")}</a>
      </div>
    </form>
  );
}

function PickList(props: { rows: Pickable[]; checked: boolean; id?: string }) {
  return (
    <ul class="pick-list" id={props.id}>
      {props.rows.map((m) => (
        <li>
          <label>
            <input type="checkbox" name="machines" value={String(m.id)} checked={props.checked} /> <span safe>{m.hostname}</span> <span class="hint" safe>{m.detail}</span>
          </label>
        </li>
      ))}
    </ul>
  );
}

export function PickerResults(props: { t: T; rows: Pickable[]; searched: boolean }) {
  if (!props.searched) return <div id="mgroup-picker"></div>;
  return (
    <div id="mgroup-picker">
      <h3 safe>{props.t("mgroups.pick.found")}</h3>
      {props.rows.length === 0 ? (
        <p class="empty-state" safe>{props.t("mgroups.pick.none")}</p>
      ) : (
        <>
          <button type="button" class="link-button" data-check-all="#mgroup-picker" safe>{props.t("mgroups.pick.selectAll")}</button>
          <PickList rows={props.rows} checked={false} />
        </>
      )}
    </div>
  );
}

export interface BuilderData {
  /** field id → { kind, label, ops: [{ value, label }], group } */
  fields: Record<string, { kind: string; label: string; section: string; ops: { value: string; label: string }[] }>;
  labels: Record<string, string>;
  groups: { value: string; label: string }[];
  entities: { value: string; label: string }[];
}

export function DynamicForm(props: Common & { query: string; builder: BuilderData }) {
  const { t, errors } = props;
  const queryError = errors?.query;
  return (
    <form class="card form wide" method="post" action={props.id ? `/machine-groups/${props.id}` : "/machine-groups/dynamic"} id="mgroup-dynamic">
      <Head {...props} errors={errors && Object.fromEntries(Object.entries(errors).filter(([k]) => k !== "query"))} title={props.id ? t("mgroups.editTitle", { name: props.values.name }) : t("mgroups.newDynamic")} />
      <fieldset>
        <legend safe>{t("mgroups.builder.title")}</legend>
        <p class="hint" safe>{t("mgroups.builder.hint")}</p>
        <div id="query-builder" data-builder={JSON.stringify(props.builder)} data-preview={`/machine-groups/preview${props.id ? `?self=${props.id}` : ""}`}></div>
        <noscript>
          <p safe>{t("mgroups.builder.noscript")}</p>
        </noscript>
        <details open={queryError ? true : undefined}>
          <summary safe>{t("mgroups.builder.json")}</summary>
          <label for="query" class="visually-hidden" safe>{t("mgroups.builder.json")}</label>
          <textarea id="query" name="query" rows="8" class="mono" aria-describedby="query-hint" aria-invalid={queryError ? "true" : undefined} safe>{props.query}</textarea>
          <p class="hint" id="query-hint" safe>{t("mgroups.builder.jsonHint")}</p>
        </details>
        {when(props.error && queryError, () => <p class="field-error" id="query-error" safe>{props.error!}</p>)}
        <div class="toolbar">
          <button type="button" id="query-preview-button" hx-post="/machine-groups/preview" hx-target="#query-preview" hx-swap="innerHTML" safe>{t("mgroups.builder.preview")}</button>
        </div>
        <div id="query-preview" aria-live="polite"></div>
      </fieldset>
      <div class="form-actions">
        <button type="submit" class="primary" safe>{t("mgroups.save")}</button>
        <a href={props.id ? `/machine-groups/${props.id}` : "/machine-groups"} safe>{t("mgroups.cancel")}</a>
      </div>
    </form>
  );
}

export function PreviewResult(props: { t: T; count: number; total: number; sample: string[]; error?: string }) {
  const { t } = props;
  if (props.error) return <p class="field-error" role="alert" safe>{props.error}</p>;
  return (
    <div class="preview">
      <p>
        <strong id="query-preview-count" safe>{String(props.count)}</strong>{" "}
        <span safe>{props.total > props.count ? t("mgroups.builder.previewHidden", { count: props.total, hidden: props.total - props.count }) : t("mgroups.builder.previewCount", { count: props.count })}</span>
      </p>
      {when(props.sample.length, () => (
        <p class="hint">
          <span safe>{t("mgroups.builder.sample")}</span> <span safe>{props.sample.join(", ")}</span>
        </p>
      ))}
    </div>
  );
}
