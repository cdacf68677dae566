/**
 * @module views/account/two-factor
 * "Two-factor sign-in" on the account page: off (a button to start), enrolling (the QR
 * code, the otpauth:// link and the key, and a code to confirm), or on (turn off with a
 * current code or the password). The section is the fragment htmx swaps; the page frames
 * it alone when a super-administrator is sent here to enroll before anything else.
 */
import type { FieldErrors } from "../../src/errors.ts";
import type { T } from "../../src/i18n/index.ts";
import { CsrfField, FieldError } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";

export interface TwoFactorProps {
  t: T;
  csrf: string;
  enabled: boolean;
  /** While enrolling: the key, its link, and its QR code as SVG made on the server from numbers only. */
  pending: { secret: string; uri: string; safeQrSvg: string } | null;
  /** Compulsory for this account (a super-administrator while the setting is on). */
  required: boolean;
  errors?: FieldErrors;
  notice?: string;
}

export function TwoFactorSection(props: TwoFactorProps) {
  const { t } = props;
  return (
    <section id="account-totp" class="card" aria-labelledby="account-totp-title">
      <h2 id="account-totp-title" safe>{t("account.totp.title")}</h2>
      {when(props.notice, () => <Alert kind="success" text={props.notice!} />)}
      {when(props.required && !props.enabled, () => <Alert kind="info" text={t("totp.mustEnroll")} />)}
      {props.enabled ? <Enabled {...props} /> : props.pending ? <Enrolling {...props} /> : <Disabled {...props} />}
    </section>
  );
}

function Disabled(props: TwoFactorProps) {
  const { t } = props;
  return (
    <>
      <p safe>{t("account.totp.off")}</p>
      <form method="post" action="/account/two-factor/enroll" hx-post="/account/two-factor/enroll" hx-target="#account-totp" hx-swap="outerHTML">
        <CsrfField token={props.csrf} />
        <button type="submit" class="primary" safe>{t("account.totp.enroll")}</button>
      </form>
    </>
  );
}

function Enrolling(props: TwoFactorProps) {
  const { t } = props;
  const p = props.pending!;
  const safeQr = p.safeQrSvg;
  return (
    <>
      <p safe>{t("account.totp.scan")}</p>
      <figure class="qr" role="group" aria-label={t("account.totp.qrAlt")}>
        {safeQr}
      </figure>
      <dl>
        <dt safe>{t("account.totp.secret")}</dt>
        <dd><code safe>{p.secret.replace(/(.{4})/g, "$1 ").trim()}</code></dd>
        <dt safe>{t("account.totp.uri")}</dt>
        <dd><code class="small" safe>{p.uri}</code></dd>
      </dl>
      <form method="post" action="/account/two-factor/confirm" hx-post="/account/two-factor/confirm" hx-target="#account-totp" hx-swap="outerHTML" class="form">
        <CsrfField token={props.csrf} />
        <label for="totp-code" safe>{t("account.totp.code")}</label>
        <input id="totp-code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength="7" required aria-invalid={props.errors?.code ? "true" : undefined} aria-describedby={props.errors?.code ? "code-error" : undefined} />
        <FieldError t={t} name="code" errors={props.errors} />
        <button type="submit" class="primary" safe>{t("account.totp.confirm")}</button>
      </form>
      <form method="post" action="/account/two-factor/enroll" hx-post="/account/two-factor/enroll" hx-target="#account-totp" hx-swap="outerHTML">
        <CsrfField token={props.csrf} />
        <button type="submit" class="link-button" safe>{t("account.totp.restart")}</button>
      </form>
    </>
  );
}

function Enabled(props: TwoFactorProps) {
  const { t } = props;
  return (
    <>
      <p safe>{t("account.totp.on")}</p>
      {props.required ? (
        <p class="muted" safe>{t("account.totp.required")}</p>
      ) : (
        <form method="post" action="/account/two-factor/disable" hx-post="/account/two-factor/disable" hx-target="#account-totp" hx-swap="outerHTML" class="form">
          <CsrfField token={props.csrf} />
          <p class="hint" id="disable-hint" safe>{t("account.totp.disableHint")}</p>
          <label for="disable-code" safe>{t("account.totp.code")}</label>
          <input id="disable-code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="7" aria-describedby="disable-hint" />
          <label for="disable-password" safe>{t("account.totp.password")}</label>
          <input id="disable-password" name="password" type="password" autocomplete="current-password" maxlength="1024" aria-invalid={props.errors?.proof ? "true" : undefined} aria-describedby={props.errors?.proof ? "proof-error" : undefined} />
          <FieldError t={t} name="proof" errors={props.errors} />
          <button type="submit" class="danger" safe>{t("account.totp.disable")}</button>
        </form>
      )}
    </>
  );
}
