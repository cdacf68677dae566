/**
 * @module views/account/account
 * "My account": the sections of one's own sessions, API tokens, two-factor sign-in and,
 * for super-administrators, the sign-in security setting. Each section is a fragment with
 * its own routes; this page only lays them out.
 */
import type { Children } from "@kitajs/html";
import type { T } from "../../src/i18n/index.ts";

export function AccountPage(props: { t: T; login: string; children?: Children }) {
  return (
    <div class="stack">
      <div class="page-head">
        <h1 safe>{props.t("account.title")}</h1>
        <span class="muted" safe>{props.login}</span>
        <a class="button" href="/account/password" safe>{props.t("user.changePassword")}</a>
      </div>
      {props.children}
    </div>
  );
}
