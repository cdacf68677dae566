/**
 * @module views/auth/login
 * The sign-in page (SPEC G1): language choice, login or e-mail, password, one generic
 * error. The language links reload the page in that language before signing in.
 */
import type { T } from "../../src/i18n/index.ts";
import { Alert, Document, when } from "../shell/layout.tsx";

export interface LoginProps {
  t: T;
  lang: "fr" | "en";
  csrf: string;
  login?: string;
  next?: string;
  error?: string;
  info?: string;
}

export function LoginPage(props: LoginProps) {
  const { t } = props;
  return (
    <Document lang={props.lang} title={t("login.title")} csrf={props.csrf}>
      <body class="login-page">
        <main class="login-card">
          <div class="brand-large">
            <img src="/static/favicon.svg" alt="" width="48" height="48" />
            <div>
              <h1 safe>{t("app.name")}</h1>
              <p safe>{t("app.tagline")}</p>
            </div>
          </div>
          <LoginForm {...props} />
        </main>
      </body>
    </Document>
  );
}

/** The form alone: what a failed htmx sign-in swaps back in. */
export function LoginForm(props: LoginProps) {
  const { t } = props;
  return (
    <form id="login-form" method="post" action="/login" hx-post="/login" hx-target="this" hx-swap="outerHTML" novalidate>
      <h2 safe>{t("login.title")}</h2>
      {when(props.error, () => <Alert kind="error" text={props.error!} />)}
      {when(props.info, () => <Alert kind="info" text={props.info!} />)}
      <input type="hidden" name="_csrf" value={props.csrf} />
      <input type="hidden" name="next" value={props.next ?? ""} />
      <label for="lang" safe>{t("lang.label")}</label>
      <select id="lang" name="lang" data-reload-lang>
        <option value="fr" selected={props.lang === "fr"} lang="fr" safe>
          {t("lang.fr")}
        </option>
        <option value="en" selected={props.lang === "en"} lang="en" safe>
          {t("lang.en")}
        </option>
      </select>
      <label for="login" safe>{t("login.login")}</label>
      <input id="login" name="login" autocomplete="username" required maxlength="254" value={props.login ?? ""} autofocus />
      <label for="password" safe>{t("login.password")}</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024" aria-describedby="password-hint" />
      <p id="password-hint" class="hint" safe>
        {t("login.passwordHint")}
      </p>
      <button type="submit" class="primary" safe>
        {t("login.submit")}
      </button>
    </form>
  );
}
