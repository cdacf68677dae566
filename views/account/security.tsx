/**
 * @module views/account/security
 * The super-administrators' sign-in security setting, on their account page: whether
 * two-factor sign-in is compulsory for super-administrators. The section is the fragment.
 */
import type { T } from "../../src/i18n/index.ts";
import { Check, CsrfField } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";

export function SecuritySection(props: { t: T; csrf: string; totpRequired: boolean; notice?: string }) {
  const { t } = props;
  return (
    <section id="account-security" class="card" aria-labelledby="account-security-title">
      <h2 id="account-security-title" safe>{t("account.security.title")}</h2>
      {when(props.notice, () => <Alert kind="success" text={props.notice!} />)}
      <form method="post" action="/account/security" hx-post="/account/security" hx-target="#account-security" hx-swap="outerHTML">
        <CsrfField token={props.csrf} />
        <Check t={t} name="totpRequired" label={t("account.security.totpRequired")} hint={t("account.security.hint")} checked={props.totpRequired} />
        <button type="submit" safe>{t("account.security.save")}</button>
      </form>
    </section>
  );
}
