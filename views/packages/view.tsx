/**
 * @module views/packages/view
 * One package version: its metadata, files (path, size, SHA-256), steps per system and
 * section, mirror state per distribution point, and the descriptor as JSON.
 */
import type { T } from "../../src/i18n/index.ts";
import { CsrfField } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";

export interface PackageViewProps {
  t: T;
  csrf: string;
  id: number;
  title: string;
  notice?: string;
  facts: [string, string][];
  files: { path: string; size: string; sha256: string }[];
  sections: { os: string; section: string; count: number }[];
  sync: { relay: string; state: string; error: string; at: string }[];
  descriptorJson: string;
  previousId: number | null;
  canEdit: boolean;
  canDelete: boolean;
  locked: boolean;
}

export function PackageViewPage(props: PackageViewProps) {
  const { t } = props;
  return (
    <section>
      <div class="page-head">
        <h1 safe>{props.title}</h1>
        <span class="actions">
          {when(props.canEdit, () => (
            <>
              <a class="button" href={`/packages/${props.id}/edit`} safe>
                {t("packages.action.edit")}
              </a>{" "}
              <a class="button" href={`/packages/${props.id}/steps`} safe>
                {t("packages.action.steps")}
              </a>{" "}
            </>
          ))}
          {when(props.canDelete, () => (
            <form method="post" action={`/packages/${props.id}/delete`} class="inline">
              <CsrfField token={props.csrf} />
              <button type="submit" class="button danger" data-confirm={t("packages.confirmDelete", { name: props.title, version: "" })} safe>
                {t("packages.action.delete")}
              </button>
            </form>
          ))}
        </span>
      </div>
      {when(props.notice, () => <Alert kind="success" text={props.notice!} />)}
      {when(props.locked, () => <Alert kind="info" text={t("packages.locked")} />)}
      <dl class="facts">
        {props.facts.map(([k, v]) => (
          <>
            <dt safe>{k}</dt>
            <dd safe>{v}</dd>
          </>
        ))}
      </dl>
      {when(props.previousId !== null, () => (
        <p>
          <a href={`/packages/${props.previousId}`} safe>
            {t("packages.view.previous")}
          </a>
        </p>
      ))}
      <h2 safe>{t("packages.view.sections")}</h2>
      <ul>
        {props.sections.map((s) => (
          <li>
            <a href={`/packages/${props.id}/steps?os=${s.os}&section=${s.section}`} safe>
              {`${t(`packages.os.${s.os as "windows"}`)} › ${t(`packages.section.${s.section as "install"}`)}`}
            </a>{" "}
            <span class="muted" safe>
              {t("packages.view.steps", { count: s.count })}
            </span>
          </li>
        ))}
      </ul>
      <h2 safe>{t("packages.view.files")}</h2>
      {when(props.files.length === 0, () => (
        <p class="muted" safe>
          {t("packages.view.noFiles")}
        </p>
      ))}
      {when(props.files.length > 0, () => (
        <table class="data" id="package-files">
          <tbody>
            {props.files.map((f) => (
              <tr>
                <td safe>{f.path}</td>
                <td safe>{f.size}</td>
                <td class="mono small" safe>
                  {f.sha256}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
      <h2 safe>{t("packages.view.sync")}</h2>
      <ul>
        {props.sync.map((s) => (
          <li safe>{`${s.relay === "local" ? t("packages.pending.local") : s.relay} : ${t(`packages.sync.${s.state as "pending"}`)}${s.error ? ` (${s.error})` : ""} — ${s.at}`}</li>
        ))}
      </ul>
      <h2 safe>{t("packages.view.descriptor")}</h2>
      <p>
        <a href={`/packages/${props.id}/medulla-package.json`} download="medulla-package.json" safe>
          {t("packages.view.download")}
        </a>
      </p>
      <pre class="descriptor" safe>
        {props.descriptorJson}
      </pre>
    </section>
  );
}
