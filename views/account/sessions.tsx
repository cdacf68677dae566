/**
 * @module views/account/sessions
 * "Active sessions" on the account page: one's signed-in browsers, this one marked, each
 * other one closable, and all others at once. The section is the fragment htmx swaps.
 */
import type { T } from "../../src/i18n/index.ts";
import { CsrfField } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";
import type { FormatTime } from "./time.ts";

export interface SessionView {
  handle: string;
  createdAt: number;
  lastSeenAt: number;
  ip: string;
  browser: string;
  current: boolean;
}

export function SessionsSection(props: { t: T; csrf: string; fmt: FormatTime; sessions: SessionView[]; notice?: string }) {
  const { t, fmt } = props;
  const others = props.sessions.some((s) => !s.current);
  return (
    <section id="account-sessions" class="card" aria-labelledby="account-sessions-title">
      <h2 id="account-sessions-title" safe>{t("account.sessions.title")}</h2>
      {when(props.notice, () => <Alert kind="success" text={props.notice!} />)}
      <table class="data">
        <thead>
          <tr>
            <th scope="col" safe>{t("account.sessions.browser")}</th>
            <th scope="col" safe>{t("account.sessions.ip")}</th>
            <th scope="col" safe>{t("account.sessions.started")}</th>
            <th scope="col" safe>{t("account.sessions.lastSeen")}</th>
            <th scope="col"><span class="visually-hidden" safe>{t("account.sessions.revoke")}</span></th>
          </tr>
        </thead>
        <tbody>
          {props.sessions.map((s) => (
            <tr>
              <td>
                <span safe>{s.browser}</span>
                {when(s.current, () => <span class="badge" safe>{t("account.sessions.current")}</span>)}
              </td>
              <td safe>{s.ip}</td>
              <td><time datetime={new Date(s.createdAt).toISOString()} safe>{fmt(s.createdAt)}</time></td>
              <td><time datetime={new Date(s.lastSeenAt).toISOString()} safe>{fmt(s.lastSeenAt)}</time></td>
              <td class="actions">
                {when(!s.current, () => (
                  <form method="post" action={`/account/sessions/${s.handle}/revoke`} hx-post={`/account/sessions/${s.handle}/revoke`} hx-target="#account-sessions" hx-swap="outerHTML" class="inline-form">
                    <CsrfField token={props.csrf} />
                    <button type="submit" class="link-button danger" safe>{t("account.sessions.revoke")}</button>
                  </form>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {when(others, () => (
        <form method="post" action="/account/sessions/revoke-others" hx-post="/account/sessions/revoke-others" hx-target="#account-sessions" hx-swap="outerHTML" class="form-actions">
          <CsrfField token={props.csrf} />
          <button type="submit" safe>{t("account.sessions.revokeOthers")}</button>
        </form>
      ))}
    </section>
  );
}
