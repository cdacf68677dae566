/**
 * @module views/history/retention-form
 * How long the history keeps its entries, for holders of `logs.settings`: a number of
 * days (0 keeps them forever). htmx swaps the form itself with the outcome.
 */
import type { FieldErrors } from "../../src/errors.ts";
import type { T } from "../../src/i18n/index.ts";
import { CsrfField, FieldError } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";

export interface RetentionProps {
  t: T;
  csrf: string;
  /** What the field shows: the saved value, or what was typed when it was refused. */
  days: string;
  max: number;
  errors?: FieldErrors;
  notice?: string;
}

export function RetentionForm(props: RetentionProps) {
  const { t } = props;
  const error = props.errors?.days;
  return (
    <form id="history-retention" class="card form history-retention" method="post" action="/history/retention" hx-post="/history/retention" hx-target="this" hx-swap="outerHTML">
      <h2 safe>{t("history.retention.title")}</h2>
      {when(props.notice, () => <Alert kind="success" text={props.notice!} />)}
      <CsrfField token={props.csrf} />
      <label for="days" safe>
        {t("history.retention.days")}
      </label>
      <input
        id="days"
        name="days"
        type="number"
        min="0"
        max={String(props.max)}
        step="1"
        required
        value={props.days}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={error ? "days-hint days-error" : "days-hint"}
      />
      <p class="hint" id="days-hint" safe>
        {t("history.retention.hint")}
      </p>
      <FieldError t={t} name="days" errors={props.errors} />
      <button type="submit" class="primary" safe>
        {t("history.retention.submit")}
      </button>
    </form>
  );
}
