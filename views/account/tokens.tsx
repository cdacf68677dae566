/**
 * @module views/account/tokens
 * "API tokens" on the account page: one's live tokens, a form to create one (name,
 * validity in days) and, right after creating, its secret, shown this once with a copy
 * button (static/app.js) and a hint that it will not be shown again.
 */
import type { FieldErrors } from "../../src/errors.ts";
import type { T } from "../../src/i18n/index.ts";
import { CsrfField, TextField } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";
import type { FormatTime } from "./time.ts";

export interface TokenView {
  id: number;
  name: string;
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | null;
  ip: string;
}

export interface TokensProps {
  t: T;
  csrf: string;
  fmt: FormatTime;
  tokens: TokenView[];
  /** The secret of the token just created. */
  issued?: { name: string; token: string };
  values?: { name: string; ttlDays: string };
  errors?: FieldErrors;
  notice?: string;
}

const Time = (props: { ms: number; fmt: FormatTime }) => (
  <time datetime={new Date(props.ms).toISOString()} safe>
    {props.fmt(props.ms)}
  </time>
);

export function TokensSection(props: TokensProps) {
  const { t, fmt } = props;
  return (
    <section id="account-tokens" class="card" aria-labelledby="account-tokens-title">
      <h2 id="account-tokens-title" safe>{t("account.tokens.title")}</h2>
      <p class="hint">
        <span safe>{t("account.tokens.intro")}</span> <a href="/api/v1/openapi.json" safe>{t("account.tokens.docs")}</a>
      </p>
      {when(props.notice, () => <Alert kind="success" text={props.notice!} />)}
      {when(props.issued, () => (
        <div class="alert alert-success">
          <label for="new-token" safe>{t("account.tokens.secretTitle", { name: props.issued!.name || t("account.tokens.unnamed") })}</label>
          <div class="inline-form">
            <input id="new-token" readonly value={props.issued!.token} size="60" aria-describedby="new-token-hint" />
            <button type="button" data-copy="new-token" data-copied={t("account.tokens.copied")} safe>{t("account.tokens.copy")}</button>
          </div>
          <p class="hint" id="new-token-hint" safe>{t("account.tokens.secretHint")}</p>
        </div>
      ))}
      {props.tokens.length === 0 ? (
        <p class="muted" safe>{t("account.tokens.none")}</p>
      ) : (
        <table class="data">
          <thead>
            <tr>
              <th scope="col" safe>{t("account.tokens.name")}</th>
              <th scope="col" safe>{t("account.tokens.created")}</th>
              <th scope="col" safe>{t("account.tokens.expires")}</th>
              <th scope="col" safe>{t("account.tokens.lastUsed")}</th>
              <th scope="col" safe>{t("account.tokens.ip")}</th>
              <th scope="col"><span class="visually-hidden" safe>{t("account.tokens.revoke")}</span></th>
            </tr>
          </thead>
          <tbody>
            {props.tokens.map((k) => (
              <tr id={`token-${k.id}`}>
                <td safe>{k.name || t("account.tokens.unnamed")}</td>
                <td><Time ms={k.createdAt} fmt={fmt} /></td>
                <td><Time ms={k.expiresAt} fmt={fmt} /></td>
                <td>{k.lastUsedAt === null ? <span class="muted" safe>{t("account.tokens.never")}</span> : <Time ms={k.lastUsedAt} fmt={fmt} />}</td>
                <td safe>{k.ip}</td>
                <td class="actions">
                  <form method="post" action={`/account/tokens/${k.id}/revoke`} hx-post={`/account/tokens/${k.id}/revoke`} hx-target="#account-tokens" hx-swap="outerHTML" class="inline-form">
                    <CsrfField token={props.csrf} />
                    <button type="submit" class="link-button danger" safe>{t("account.tokens.revoke")}</button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form method="post" action="/account/tokens" hx-post="/account/tokens" hx-target="#account-tokens" hx-swap="outerHTML" class="form">
        <h3 safe>{t("account.tokens.create")}</h3>
        <CsrfField token={props.csrf} />
        <TextField t={t} name="name" label={t("account.tokens.name")} value={props.values?.name} maxlength={100} errors={props.errors} />
        <TextField t={t} name="ttlDays" type="number" label={t("account.tokens.validity")} hint={t("account.tokens.validityHint")} value={props.values?.ttlDays ?? "30"} required errors={props.errors} />
        <button type="submit" class="primary" safe>{t("account.tokens.create")}</button>
      </form>
    </section>
  );
}
