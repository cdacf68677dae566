/**
 * @module views/packages/form
 * Adding a package (SPEC P2: the four file origins, then its metadata), editing a
 * version's metadata, and importing a Medulla package. Errors come translated, by field.
 */
import type { T } from "../../src/i18n/index.ts";
import { CsrfField, type Option } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";

export interface MetaValues {
  name: string;
  version: string;
  description: string;
  kind: string;
  os: string[];
  share: string;
  transfer: string;
  bandwidth: string;
  priority: string;
  launcher: string;
  dependencies: string[];
  associate: boolean;
  software: string;
  softwareVersion: string;
  inventoryAfter: boolean;
  removeAfter: boolean;
}

export const emptyMeta = (): MetaValues => ({
  name: "", version: "1.0.0", description: "", kind: "install", os: ["windows"], share: "global", transfer: "pull", bandwidth: "0", priority: "normal",
  launcher: "", dependencies: [], associate: false, software: "", softwareVersion: "", inventoryAfter: true, removeAfter: false,
});

/** Errors by form field, already translated; "" holds those of no field. */
export type FormErrors = Record<string, string[]>;

function Errors(props: { name: string; errors: FormErrors }) {
  const list = props.errors[props.name] ?? [];
  return (
    <>
      {list.map((e) => (
        <p class="field-error" id={`${props.name}-error`} safe>
          {e}
        </p>
      ))}
    </>
  );
}

function Text(props: { name: string; label: string; value: string; errors: FormErrors; hint?: string; type?: string; required?: boolean; maxlength?: number; area?: boolean }) {
  const bad = (props.errors[props.name] ?? []).length > 0;
  return (
    <div class="field">
      <label for={props.name} safe>
        {props.label}
      </label>
      {props.area ? (
        <textarea id={props.name} name={props.name} rows="3" maxlength={props.maxlength ? String(props.maxlength) : undefined} aria-invalid={bad ? "true" : undefined} safe>
          {props.value}
        </textarea>
      ) : (
        <input id={props.name} name={props.name} type={props.type ?? "text"} value={props.value} required={props.required} maxlength={props.maxlength ? String(props.maxlength) : undefined} aria-invalid={bad ? "true" : undefined} />
      )}
      {when(props.hint, () => (
        <p class="hint" safe>
          {props.hint!}
        </p>
      ))}
      <Errors name={props.name} errors={props.errors} />
    </div>
  );
}

function Choice(props: { name: string; label: string; options: Option[]; selected: string; errors: FormErrors }) {
  return (
    <div class="field">
      <label for={props.name} safe>
        {props.label}
      </label>
      <select id={props.name} name={props.name}>
        {props.options.map((o) => (
          <option value={o.value} selected={o.value === props.selected} safe>
            {o.label}
          </option>
        ))}
      </select>
      <Errors name={props.name} errors={props.errors} />
    </div>
  );
}

function Box(props: { name: string; label: string; checked: boolean }) {
  return (
    <div class="check">
      <input type="checkbox" id={props.name} name={props.name} value="on" checked={props.checked} />
      <label for={props.name} safe>
        {props.label}
      </label>
    </div>
  );
}

/** The metadata fields of SPEC P2, shared by the add and edit forms. */
export function MetaFields(props: { t: T; values: MetaValues; errors: FormErrors; packages: Option[] }) {
  const { t, values: v, errors } = props;
  return (
    <>
      <Text name="share" label={t("packages.field.share")} value={v.share} errors={errors} maxlength={100} />
      <Text name="name" label={t("packages.field.name")} value={v.name} errors={errors} hint={t("packages.field.nameHint")} required maxlength={100} />
      <Text name="version" label={t("packages.field.version")} value={v.version} errors={errors} required maxlength={40} />
      <Text name="description" label={t("packages.field.description")} value={v.description} errors={errors} area maxlength={2000} />
      <Choice name="kind" label={t("packages.field.kind")} selected={v.kind} errors={errors} options={(["install", "uninstall", "script"] as const).map((k) => ({ value: k, label: t(`packages.kind.${k}`) }))} />
      <fieldset class="field">
        <legend safe>{t("packages.field.targetOs")}</legend>
        {(["windows", "linux", "macos"] as const).map((o) => (
          <Box name={`os_${o}`} label={t(`packages.os.${o}`)} checked={v.os.includes(o)} />
        ))}
        <Errors name="targetOs" errors={errors} />
      </fieldset>
      <Choice name="transfer" label={t("packages.field.transfer")} selected={v.transfer} errors={errors} options={[{ value: "pull", label: t("packages.transfer.pull") }, { value: "push", label: t("packages.transfer.push") }]} />
      <Text name="bandwidth" label={t("packages.field.bandwidth")} value={v.bandwidth} errors={errors} type="number" />
      <Choice name="priority" label={t("packages.field.priority")} selected={v.priority} errors={errors} options={[{ value: "normal", label: t("packages.priority.normal") }, { value: "high", label: t("packages.priority.high") }]} />
      <Text name="launcher" label={t("packages.field.launcher")} value={v.launcher} errors={errors} hint={t("packages.field.launcherHint")} maxlength={1024} />
      <div class="field">
        <label for="dependencies" safe>
          {t("packages.field.dependencies")}
        </label>
        <select id="dependencies" name="dependencies" multiple="multiple" size="5">
          {props.packages.map((o) => (
            <option value={o.value} selected={v.dependencies.includes(o.value)} safe>
              {o.label}
            </option>
          ))}
        </select>
        <Errors name="dependencies" errors={errors} />
      </div>
      <Box name="associate" label={t("packages.field.associate")} checked={v.associate} />
      <Text name="software" label={t("packages.field.software")} value={v.software} errors={errors} maxlength={255} />
      <Text name="softwareVersion" label={t("packages.field.softwareVersion")} value={v.softwareVersion} errors={errors} maxlength={100} />
      <Box name="inventoryAfter" label={t("packages.field.inventoryAfter")} checked={v.inventoryAfter} />
      <Box name="removeAfter" label={t("packages.field.removeAfter")} checked={v.removeAfter} />
    </>
  );
}

function GeneralErrors(props: { errors: FormErrors }) {
  return <>{(props.errors[""] ?? []).map((e) => <Alert kind="error" text={e} />)}</>;
}

export function AddPackagePage(props: {
  t: T;
  csrf: string;
  values: MetaValues;
  origin: string;
  errors: FormErrors;
  packages: Option[];
  directories: string[];
  sourcesDir: string;
  sourcePackage: string;
  directory: string;
}) {
  const { t } = props;
  const origins = ["upload", "existing", "empty", "directory"] as const;
  return (
    <section>
      <h1 safe>{t("packages.add.title")}</h1>
      <GeneralErrors errors={props.errors} />
      <form method="post" action="/packages/new" enctype="multipart/form-data" class="stacked package-form" id="package-add">
        <CsrfField token={props.csrf} />
        <fieldset class="origins">
          <legend safe>{t("packages.add.origin")}</legend>
          {origins.map((o) => (
            <div class="check">
              <input type="radio" id={`origin-${o}`} name="origin" value={o} checked={props.origin === o} />
              <label for={`origin-${o}`} safe>
                {t(`packages.origin.${o}`)}
              </label>
              <p class="hint" safe>
                {o === "directory" ? t("packages.origin.directoryHint", { dir: props.sourcesDir }) : t(`packages.origin.${o}Hint`)}
              </p>
            </div>
          ))}
          <Errors name="origin" errors={props.errors} />
        </fieldset>
        <fieldset class="origin-fields for-upload">
          <legend safe>{t("packages.origin.upload")}</legend>
          <div class="field">
            <label for="file" safe>
              {t("packages.field.file")}
            </label>
            <input type="file" id="file" name="file" />
            <Errors name="file" errors={props.errors} />
          </div>
          <Box name="extract" label={t("packages.field.extract")} checked={true} />
        </fieldset>
        <fieldset class="origin-fields for-existing">
          <legend safe>{t("packages.origin.existing")}</legend>
          <div class="field">
            <label for="sourcePackage" safe>
              {t("packages.field.sourcePackage")}
            </label>
            <select id="sourcePackage" name="sourcePackage">
              <option value="">—</option>
              {props.packages.map((o) => (
                <option value={o.value} selected={o.value === props.sourcePackage} safe>
                  {o.label}
                </option>
              ))}
            </select>
            <Errors name="sourcePackage" errors={props.errors} />
          </div>
        </fieldset>
        <fieldset class="origin-fields for-directory">
          <legend safe>{t("packages.origin.directory")}</legend>
          {when(props.directories.length === 0, () => (
            <p class="muted" safe>
              {t("packages.noDirectories")}
            </p>
          ))}
          {when(props.directories.length > 0, () => (
            <div class="field">
              <label for="directory" safe>
                {t("packages.field.directory")}
              </label>
              <select id="directory" name="directory">
                {props.directories.map((d) => (
                  <option value={d} selected={d === props.directory} safe>
                    {d}
                  </option>
                ))}
              </select>
            </div>
          ))}
          <Errors name="directory" errors={props.errors} />
        </fieldset>
        <MetaFields t={t} values={props.values} errors={props.errors} packages={props.packages} />
        <div class="form-actions">
          <button type="submit" class="primary" safe>
            {t("packages.submit.add")}
          </button>{" "}
          <a href="/packages" safe>
            {t("packages.cancel")}
          </a>
        </div>
      </form>
    </section>
  );
}

export function EditPackagePage(props: { t: T; csrf: string; id: number; title: string; locked: boolean; values: MetaValues; errors: FormErrors; packages: Option[] }) {
  const { t } = props;
  return (
    <section>
      <h1 safe>{props.title}</h1>
      {when(props.locked, () => <Alert kind="info" text={t("packages.edit.lockedNote")} />)}
      <GeneralErrors errors={props.errors} />
      <form method="post" action={`/packages/${props.id}/edit`} class="stacked package-form" id="package-edit">
        <CsrfField token={props.csrf} />
        <MetaFields t={t} values={props.values} errors={props.errors} packages={props.packages} />
        <div class="form-actions">
          <button type="submit" class="primary" safe>
            {t("packages.submit.save")}
          </button>{" "}
          <a href={`/packages/${props.id}`} safe>
            {t("packages.cancel")}
          </a>
        </div>
      </form>
      <form method="post" action={`/packages/replace-files?id=${props.id}`} enctype="multipart/form-data" class="stacked" id="package-files-form">
        <CsrfField token={props.csrf} />
        <h2 safe>{t("packages.files.replace")}</h2>
        <p class="hint" safe>
          {t("packages.files.replaceHint")}
        </p>
        <div class="field">
          <label for="replace-file" safe>
            {t("packages.field.file")}
          </label>
          <input type="file" id="replace-file" name="file" required />
          <Errors name="file" errors={props.errors} />
        </div>
        <Box name="extract" label={t("packages.field.extract")} checked={true} />
        <button type="submit" safe>
          {t("packages.files.submit")}
        </button>
      </form>
    </section>
  );
}

export function ImportPage(props: { t: T; csrf: string; errors: string[]; result?: { id: number; name: string; version: string; warnings: string[] }; directories: string[]; sourcesDir: string }) {
  const { t } = props;
  return (
    <section>
      <h1 safe>{t("packages.import.title")}</h1>
      {props.errors.map((e) => (
        <Alert kind="error" text={e} />
      ))}
      {when(props.result, () => (
        <div id="import-result">
          <Alert kind="success" text={t("packages.import.done", { name: props.result!.name, version: props.result!.version })} />
          {when(props.result!.warnings.length > 0, () => (
            <>
              <p safe>{t("packages.import.warnings")}</p>
              <ul class="import-warnings">
                {props.result!.warnings.map((w) => (
                  <li safe>{w}</li>
                ))}
              </ul>
            </>
          ))}
          <p>
            <a class="button" href={`/packages/${props.result!.id}`} safe>
              {t("packages.action.view")}
            </a>{" "}
            <a class="button" href={`/packages/${props.result!.id}/steps`} safe>
              {t("packages.action.steps")}
            </a>
          </p>
        </div>
      ))}
      <form method="post" action="/packages/import" enctype="multipart/form-data" class="stacked">
        <CsrfField token={props.csrf} />
        <p class="hint" safe>
          {t("packages.import.hint")}
        </p>
        <div class="field">
          <label for="import-file" safe>
            {t("packages.field.file")}
          </label>
          <input type="file" id="import-file" name="file" accept=".zip,application/zip" required />
        </div>
        <button type="submit" class="primary" safe>
          {t("packages.import.submit")}
        </button>
      </form>
      <form method="post" action="/packages/import/directory" class="stacked" id="import-directory">
        <CsrfField token={props.csrf} />
        <p class="hint" safe>
          {t("packages.origin.directoryHint", { dir: props.sourcesDir })}
        </p>
        {when(props.directories.length === 0, () => (
          <p class="muted" safe>
            {t("packages.noDirectories")}
          </p>
        ))}
        {when(props.directories.length > 0, () => (
          <>
            <div class="field">
              <label for="import-directory-name" safe>
                {t("packages.field.directory")}
              </label>
              <select id="import-directory-name" name="directory">
                {props.directories.map((d) => (
                  <option value={d} safe>
                    {d}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit" safe>
              {t("packages.import.submit")}
            </button>
          </>
        ))}
      </form>
    </section>
  );
}
