/**
 * @module views/packages/steps
 * The step editor of one section of one system: each step with its action's fields, where
 * to go on success / error / by return code, buttons to move and remove it; a new step of
 * any action; "check" shows what validation says without saving; "save" saves when valid.
 * Works as a plain form; with htmx each button re-renders the editor in place.
 */
import type { T } from "../../src/i18n/index.ts";
import { ACTION_FIELDS, type StepForm } from "../../src/features/packages/step-form.ts";
import { STEP_ACTIONS, TEMPLATE_VARIABLES, type StepAction } from "../../src/features/packages/descriptor.ts";
import { CsrfField } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";

export interface StepEditorProps {
  t: T;
  csrf: string;
  id: number;
  title: string;
  os: string;
  section: string;
  systems: string[];
  locked: boolean;
  steps: StepForm[];
  /** Issues by step index (translated), and those of no step. */
  stepIssues: Map<number, string[]>;
  generalIssues: string[];
  warnings: string[];
  checked: boolean;
  notice?: string;
}

export function StepEditorPage(props: StepEditorProps) {
  const { t } = props;
  const sections = ["install", "update", "uninstall", "launch"] as const;
  return (
    <section>
      <h1 safe>{props.title}</h1>
      {when(props.locked, () => <Alert kind="info" text={t("packages.edit.lockedNote")} />)}
      <nav class="tabs" aria-label={t("packages.steps.os")}>
        {props.systems.map((o) => (
          <a href={`/packages/${props.id}/steps?os=${o}&section=${props.section}`} aria-current={o === props.os ? "page" : undefined} safe>
            {t(`packages.os.${o as "windows"}`)}
          </a>
        ))}
      </nav>
      <nav class="tabs" aria-label={t("packages.steps.section")}>
        {sections.map((s) => (
          <a href={`/packages/${props.id}/steps?os=${props.os}&section=${s}`} aria-current={s === props.section ? "page" : undefined} safe>
            {t(`packages.section.${s}`)}
          </a>
        ))}
      </nav>
      <StepEditor {...props} />
    </section>
  );
}

function Field(props: { t: T; prefix: string; name: string; kind: string; label: string; value: string; options?: { value: string; label: string }[] }) {
  const id = `${props.prefix}.${props.name}`;
  return (
    <div class="field">
      <label for={id} safe>
        {props.label}
      </label>
      {props.kind === "textarea" ? (
        <textarea id={id} name={id} rows="3" safe>
          {props.value}
        </textarea>
      ) : props.kind === "select" ? (
        <select id={id} name={id}>
          {(props.options ?? []).map((o) => (
            <option value={o.value} selected={o.value === props.value} safe>
              {o.label}
            </option>
          ))}
        </select>
      ) : (
        <input id={id} name={id} type={props.kind === "number" ? "number" : "text"} value={props.value} />
      )}
    </div>
  );
}

export function StepEditor(props: StepEditorProps) {
  const { t } = props;
  const action = `/packages/${props.id}/steps?os=${props.os}&section=${props.section}`;
  const ids = props.steps.map((s) => s.id ?? "").filter(Boolean);
  const problems = props.generalIssues.length;
  const target = (prefix: string, name: "success" | "error", value: string, label: string) => (
    <div class="field">
      <label for={`${prefix}.${name}`} safe>
        {label}
      </label>
      <select id={`${prefix}.${name}`} name={`${prefix}.${name}`}>
        <option value="" safe>
          {t("packages.steps.default")}
        </option>
        {[...new Set([...ids, ...(value && !ids.includes(value) ? [value] : [])])].map((id) => (
          <option value={id} selected={id === value} safe>
            {id}
          </option>
        ))}
      </select>
    </div>
  );
  return (
    <form id="step-editor" method="post" action={action} hx-post={action} hx-target="#step-editor" hx-swap="outerHTML" class="step-editor">
      <CsrfField token={props.csrf} />
      {when(props.notice, () => <Alert kind="success" text={props.notice!} />)}
      {when(props.checked && problems === 0, () => <Alert kind="success" text={t("packages.steps.valid")} />)}
      {when(problems > 0, () => (
        <div class="alert alert-error" role="alert" id="step-issues">
          <p safe>{t("packages.steps.invalid", { count: problems })}</p>
          <ul>
            {props.generalIssues.map((i) => (
              <li safe>{i}</li>
            ))}
          </ul>
        </div>
      ))}
      {when(props.warnings.length > 0, () => (
        <div class="alert alert-info" id="step-warnings">
          <p safe>{t("packages.steps.warnings")}</p>
          <ul>
            {props.warnings.map((w) => (
              <li safe>{w}</li>
            ))}
          </ul>
        </div>
      ))}
      {when(props.steps.length === 0, () => (
        <p class="empty-state" safe>
          {t("packages.steps.empty")}
        </p>
      ))}
      <ol class="steps" id="steps-list">
        {props.steps.map((s, i) => {
          const prefix = `s.${i}`;
          const known = (STEP_ACTIONS as string[]).includes(s.action);
          const issues = props.stepIssues.get(i) ?? [];
          const isEnd = s.action === "end_success" || s.action === "end_error";
          return (
            <li class={`step${issues.length ? " step-invalid" : ""}`} id={`step-${i}`} data-action={s.action}>
              <div class="step-head">
                <strong safe>{known ? t(`packages.action.${s.action as StepAction}`) : s.action}</strong>
                <span class="step-buttons">
                  <button type="submit" name="op" value={`up:${i}`} class="link-button" disabled={i === 0} aria-label={`${t("packages.steps.up")} ${s.id ?? ""}`}>
                    {"↑"}
                  </button>
                  <button type="submit" name="op" value={`down:${i}`} class="link-button" disabled={i === props.steps.length - 1} aria-label={`${t("packages.steps.down")} ${s.id ?? ""}`}>
                    {"↓"}
                  </button>
                  <button type="submit" name="op" value={`remove:${i}`} class="link-button danger" aria-label={`${t("packages.steps.remove")} ${s.id ?? ""}`} safe>
                    {t("packages.steps.remove")}
                  </button>
                </span>
              </div>
              <input type="hidden" name={`${prefix}.action`} value={s.action} />
              {issues.map((e) => (
                <p class="field-error" safe>
                  {e}
                </p>
              ))}
              <div class="step-fields">
                <Field t={t} prefix={prefix} name="id" kind="text" label={t("packages.steps.id")} value={s.id ?? ""} />
                <Field t={t} prefix={prefix} name="label" kind="text" label={t("packages.steps.label")} value={s.label ?? ""} />
                {(known ? ACTION_FIELDS[s.action as StepAction] : []).map((def) => (
                  <Field
                    t={t}
                    prefix={prefix}
                    name={def.name}
                    kind={def.kind}
                    label={t(def.label)}
                    value={s[def.name] ?? ""}
                    options={def.options?.map((o) => ({ value: o.value, label: o.label.startsWith("packages.") ? t(o.label as "packages.f.yes") : o.label }))}
                  />
                ))}
                {when(!isEnd, () => (
                  <>
                    {target(prefix, "success", s.success ?? "", t("packages.steps.onSuccess"))}
                    {target(prefix, "error", s.error ?? "", t("packages.steps.onError"))}
                    <Field t={t} prefix={prefix} name="codes" kind="textarea" label={t("packages.steps.codes")} value={s.codes ?? ""} />
                  </>
                ))}
              </div>
            </li>
          );
        })}
      </ol>
      <div class="step-add">
        <label for="newAction" safe>
          {t("packages.steps.newAction")}
        </label>
        <select id="newAction" name="newAction">
          {STEP_ACTIONS.map((a) => (
            <option value={a} safe>
              {t(`packages.action.${a}`)}
            </option>
          ))}
        </select>
        <button type="submit" name="op" value="add" safe>
          {t("packages.steps.add")}
        </button>
      </div>
      <p class="hint" safe>
        {t("packages.steps.variables", { list: Object.keys(TEMPLATE_VARIABLES).map((v) => `{{${v}}}`).join(" ") })}
      </p>
      <div class="form-actions">
        <button type="submit" name="op" value="check" safe>
          {t("packages.steps.check")}
        </button>{" "}
        <button type="submit" name="op" value="save" class="primary" safe>
          {t("packages.steps.save")}
        </button>{" "}
        <a href={`/packages/${props.id}`} safe>
          {t("packages.cancel")}
        </a>
      </div>
    </form>
  );
}
