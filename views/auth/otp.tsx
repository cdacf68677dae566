/**
 * @module views/auth/otp
 * The second step of sign-in for accounts with two-factor sign-in: the 6-digit code.
 * The password step's pending session travels in its own cookie; this form carries only
 * the code, where to go next and the anonymous CSRF token of the sign-in form.
 */
import type { T } from "../../src/i18n/index.ts";
import { Alert, Document, when } from "../shell/layout.tsx";

export interface OtpProps {
  t: T;
  lang: "fr" | "en";
  csrf: string;
  next?: string;
  error?: string;
}

export function OtpPage(props: OtpProps) {
  return (
    <Document lang={props.lang} title={props.t("login.otpTitle")} csrf={props.csrf}>
      <body class="login-page">
        <main class="login-card">
          <OtpForm {...props} />
        </main>
      </body>
    </Document>
  );
}

export function OtpForm(props: OtpProps) {
  const { t } = props;
  return (
    <form id="otp-form" method="post" action="/login/otp" hx-post="/login/otp" hx-target="this" hx-swap="outerHTML" novalidate>
      <h2 safe>{t("login.otpTitle")}</h2>
      {when(props.error, () => <Alert kind="error" text={props.error!} />)}
      <input type="hidden" name="_csrf" value={props.csrf} />
      <input type="hidden" name="next" value={props.next ?? ""} />
      <label for="code" safe>{t("login.otpCode")}</label>
      <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength="7" required autofocus aria-describedby="code-hint" />
      <p id="code-hint" class="hint" safe>{t("login.otpIntro")}</p>
      <button type="submit" class="primary" safe>{t("login.otpSubmit")}</button>
      <p>
        <a href="/login" safe>{t("login.otpCancel")}</a>
      </p>
    </form>
  );
}
