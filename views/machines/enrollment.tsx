/**
 * @module views/machines/enrollment
 * Enrollment tokens: create one (entity, validity, uses), see the token once with the
 * ready-to-paste command per OS, list and revoke.
 */
import type { FieldErrors } from "../../src/errors.ts";
import type { AgentFile } from "../../src/features/machines/downloads.ts";
import type { T } from "../../src/i18n/index.ts";
import { CsrfField, Select, TextField, type Option } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";

export interface TokenView {
  id: number;
  name: string;
  entity: string;
  expires: string;
  uses: string;
  state: "active" | "expired" | "used" | "revoked";
  by: string;
}

export interface CreatedToken {
  token: string;
  caFingerprint: string;
  commands: Record<string, string>;
}

const osLabel = (t: T, key: string) => {
  const [os, arch] = key.split("-");
  return `${t(`enroll.os.${os as "linux" | "windows" | "darwin"}`)}${arch ? ` (${arch})` : ""}`;
};

export function EnrollmentPage(props: { t: T; csrf: string; tokens: TokenView[]; entities: Option[]; created?: CreatedToken; errors?: FieldErrors; values?: Record<string, string>; agents: AgentFile[] }) {
  const { t } = props;
  const v = props.values ?? {};
  return (
    <section class="stack">
      <div class="page-head">
        <h1 safe>{t("enroll.title")}</h1>
      </div>
      <p class="muted" safe>
        {t("enroll.intro")}
      </p>
      {when(props.created, () => (
        <section class="card" id="new-token">
          <Alert kind="success" text={t("enroll.tokenOnce")} />
          <p>
            <code class="mono token" safe>
              {props.created!.token}
            </code>
          </p>
          <p class="small">
            <span safe>{t("enroll.ca")}</span> <code class="mono" safe>{props.created!.caFingerprint}</code>
          </p>
          {Object.entries(props.created!.commands).map(([os, cmd]) => (
            <div class="command">
              <strong safe>{osLabel(t, os)}</strong>
              <pre class="mono" safe>
                {cmd}
              </pre>
            </div>
          ))}
        </section>
      ))}
      <section class="card" id="agent-downloads">
        <h2 safe>{t("enroll.downloads")}</h2>
        {when(props.agents.length === 0, () => (
          <p class="muted" safe>
            {t("enroll.downloads.none")}
          </p>
        ))}
        {when(props.agents.length > 0, () => (
          <table class="data">
            <thead>
              <tr>
                {(["enroll.downloads.system", "enroll.downloads.file", "enroll.downloads.size", "enroll.downloads.sha256"] as const).map((k) => (
                  <th scope="col" safe>
                    {t(k)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {props.agents.map((a) => (
                <tr>
                  <td safe>{osLabel(t, `${a.os}-${a.arch}`)}</td>
                  <td>
                    <a href={`/agent/${a.name}`} download={a.name} safe>
                      {a.name}
                    </a>
                  </td>
                  <td safe>{`${(a.size / 1048576).toFixed(1)} MiB`}</td>
                  <td>
                    <code class="mono small" safe>
                      {a.sha256}
                    </code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
        <p class="small muted" safe>
          {t("enroll.downloads.hint")}
        </p>
      </section>
      <form class="card form" method="post" action="/enrollment">
        <h2 safe>{t("enroll.create")}</h2>
        {when(props.errors, () => <Alert kind="error" text={t("error.invalid")} />)}
        <CsrfField token={props.csrf} />
        <TextField t={t} name="name" label={t("enroll.name")} value={v.name ?? ""} maxlength={100} errors={props.errors} />
        <Select t={t} name="entityId" label={t("enroll.entity")} options={props.entities} selected={[v.entityId ?? "1"]} errors={props.errors} />
        <div class="grid-2">
          <TextField t={t} name="validDays" type="number" label={t("enroll.validDays")} value={v.validDays ?? "7"} errors={props.errors} />
          <TextField t={t} name="maxUses" type="number" label={t("enroll.maxUses")} value={v.maxUses ?? ""} errors={props.errors} />
        </div>
        <button type="submit" class="primary" safe>
          {t("enroll.create")}
        </button>
      </form>
      {when(props.tokens.length === 0, () => (
        <div class="empty-state" safe>
          {t("enroll.empty")}
        </div>
      ))}
      {when(props.tokens.length > 0, () => (
        <table class="data">
          <thead>
            <tr>
              {(["enroll.col.name", "enroll.col.entity", "enroll.col.expires", "enroll.col.uses", "enroll.col.state", "enroll.col.by"] as const).map((k) => (
                <th scope="col" safe>
                  {t(k)}
                </th>
              ))}
              <th></th>
            </tr>
          </thead>
          <tbody>
            {props.tokens.map((tk) => (
              <tr>
                <td safe>{tk.name || `#${tk.id}`}</td>
                <td safe>{tk.entity}</td>
                <td safe>{tk.expires}</td>
                <td safe>{tk.uses}</td>
                <td>
                  <span class={`state state-${tk.state === "active" ? "online" : "offline"}`} safe>
                    {t(`enroll.state.${tk.state}`)}
                  </span>
                </td>
                <td safe>{tk.by}</td>
                <td class="actions">
                  {when(tk.state === "active", () => (
                    <form method="post" action={`/enrollment/${tk.id}/revoke`} class="inline-form">
                      <CsrfField token={props.csrf} />
                      <button type="submit" class="link-button danger" safe>
                        {t("enroll.revoke")}
                      </button>
                    </form>
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
