/**
 * @module views/auth/password
 * Change one's own password; forced after a generated one (first start, reset).
 */
import type { FieldErrors } from "../../src/errors.ts";
import type { T } from "../../src/i18n/index.ts";
import { Alert, when } from "../shell/layout.tsx";

export function PasswordForm(props: { t: T; csrf: string; forced: boolean; errors?: FieldErrors; done?: boolean }) {
  const { t } = props;
  const err = (field: string) => {
    const key = props.errors?.[field];
    return key ? (
      <p class="field-error" id={`${field}-error`} safe>
        {t(key)}
      </p>
    ) : (
      ""
    );
  };
  const described = (field: string) => (props.errors?.[field] ? `${field}-error` : undefined);
  return (
    <form id="password-form" class="card form" method="post" action="/account/password" hx-post="/account/password" hx-target="this" hx-swap="outerHTML">
      <h1 safe>{t("password.changeTitle")}</h1>
      {when(props.forced, () => <Alert kind="info" text={t("password.mustChange")} />)}
      {when(props.done, () => <Alert kind="success" text={t("password.changed")} />)}
      {when(props.errors, () => <Alert kind="error" text={t("error.invalid")} />)}
      <input type="hidden" name="_csrf" value={props.csrf} />
      <label for="current" safe>{t("password.current")}</label>
      <input id="current" name="current" type="password" autocomplete="current-password" required aria-describedby={described("current")} />
      {err("current")}
      <label for="password" safe>{t("password.new")}</label>
      <input id="password" name="password" type="password" autocomplete="new-password" required minlength="10" aria-describedby="rule" />
      <p class="hint" id="rule" safe>
        {t("password.rule")}
      </p>
      {err("password")}
      <label for="confirm" safe>{t("password.confirm")}</label>
      <input id="confirm" name="confirm" type="password" autocomplete="new-password" required aria-describedby={described("confirm")} />
      {err("confirm")}
      <button type="submit" class="primary" safe>
        {t("password.submit")}
      </button>
    </form>
  );
}
