/**
 * @module views/shell/error
 * The body of an error page; the shell (or a bare document before sign-in) frames it.
 */
import type { T } from "../../src/i18n/index.ts";

export function ErrorBody(props: { t: T; status: number; message: string; signedIn: boolean }) {
  return (
    <section class="card error-page">
      <h1 safe>{`${props.t("error.title")} ${props.status}`}</h1>
      <p safe>{props.message}</p>
      <p>
        <a href={props.signedIn ? "/" : "/login"} safe>
          {props.signedIn ? props.t("error.back") : props.t("login.title")}
        </a>
      </p>
    </section>
  );
}
