/**
 * @module views/entities/entities
 * The entity tree (SPEC U5) as an indented list: rename and move in place, delete when
 * nothing belongs to the entity, and a form to add one under any visible entity.
 */
import type { FieldErrors } from "../../src/errors.ts";
import type { T } from "../../src/i18n/index.ts";
import { CsrfField, FieldError, Select, TextField, type Option } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";

export interface EntityView {
  id: number;
  name: string;
  depth: number;
  parentId: number | null;
  usage: string;
}

export interface EntitiesProps {
  t: T;
  csrf: string;
  nodes: EntityView[];
  parents: Option[];
  canEdit: boolean;
  canDelete: boolean;
  notice?: string;
  error?: string;
  errors?: FieldErrors;
  values?: { name: string; parentId: string };
}

export function EntitiesPage(props: EntitiesProps) {
  const { t } = props;
  return (
    <section id="entities" class="stack">
      <div class="page-head">
        <h1 safe>{t("entities.title")}</h1>
      </div>
      <p class="muted" safe>
        {t("entities.intro")}
      </p>
      {when(props.notice, () => <Alert kind="success" text={props.notice!} />)}
      {when(props.error, () => <Alert kind="error" text={props.error!} />)}
      <ul class="tree card">
        {props.nodes.map((n) => (
          <li class={`depth-${Math.min(n.depth, 8)}`} id={`entity-${n.id}`}>
            <span class="tree-name" safe>
              {n.name}
            </span>
            {when(n.usage, () => <span class="muted small" safe>{n.usage}</span>)}
            {when(props.canEdit && n.parentId !== null, () => (
              <details class="inline-edit">
                <summary safe>{`${t("entities.rename")} / ${t("entities.move")}`}</summary>
                <form method="post" action={`/entities/${n.id}`} class="inline-form">
                  <CsrfField token={props.csrf} />
                  <label for={`name-${n.id}`} class="visually-hidden" safe>
                    {t("entities.name")}
                  </label>
                  <input id={`name-${n.id}`} name="name" value={n.name} maxlength="100" required />
                  <label for={`parent-${n.id}`} class="visually-hidden" safe>
                    {t("entities.parent")}
                  </label>
                  <select id={`parent-${n.id}`} name="parentId">
                    {props.parents
                      .filter((p) => p.value !== String(n.id))
                      .map((p) => (
                        <option value={p.value} selected={p.value === String(n.parentId)} safe>
                          {p.label}
                        </option>
                      ))}
                  </select>
                  <button type="submit" safe>
                    {t("entities.save")}
                  </button>
                </form>
              </details>
            ))}
            {when(props.canDelete && n.parentId !== null, () => (
              <form method="post" action={`/entities/${n.id}/delete`} class="inline-form">
                <CsrfField token={props.csrf} />
                <button type="submit" class="link-button danger" data-confirm={t("entities.confirmDelete")} safe>
                  {t("entities.delete")}
                </button>
              </form>
            ))}
          </li>
        ))}
      </ul>
      {when(props.canEdit, () => (
        <form class="card form" method="post" action="/entities">
          <h2 safe>{t("entities.add")}</h2>
          <CsrfField token={props.csrf} />
          <TextField t={t} name="name" label={t("entities.name")} value={props.values?.name ?? ""} required maxlength={100} errors={props.errors} />
          <Select t={t} name="parentId" label={t("entities.parent")} options={props.parents} selected={[props.values?.parentId ?? "1"]} errors={props.errors} />
          <FieldError t={t} name="entity" errors={props.errors} />
          <button type="submit" class="primary" safe>
            {t("entities.save")}
          </button>
        </form>
      ))}
    </section>
  );
}
