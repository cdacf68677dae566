/**
 * @module views/actions/shell
 * The remote terminal page (SPEC X5): xterm.js and its stylesheet from our static assets,
 * driven by static/shell.js; the WebSocket URL carries the page's CSRF token. And the list
 * of terminal sessions with their transcripts.
 */
import type { T } from "../../src/i18n/index.ts";
import { when } from "../shell/layout.tsx";

export function ShellPage(props: { t: T; csrf: string; machine: { id: number; hostname: string } }) {
  const { t, machine: m } = props;
  return (
    <section class="stack shell-page">
      <link rel="stylesheet" href="/static/xterm.css" />
      <div class="page-head">
        <h1 safe>{t("shell.title", { name: m.hostname })}</h1>
        <a class="button" href={`/computers/${m.id}`} safe>
          {t("shell.back")}
        </a>
      </div>
      <div class="shell-bar">
        <label class="check">
          <input type="checkbox" id="shell-transcript" />
          <span safe>{t("shell.transcript")}</span>
        </label>
        <button type="button" id="shell-open" class="primary" safe>
          {t("shell.open")}
        </button>
        <span id="shell-status" class="muted" role="status" data-connecting={t("shell.connecting")} data-ready={t("shell.ready")} data-ended={t("shell.ended")}></span>
      </div>
      <div id="terminal" class="terminal" data-machine={String(m.id)} data-csrf={props.csrf}></div>
    </section>
  );
}

export interface SessionRow { id: number; when: string; end: string; user: string; machine: string; machineId: number | null; ip: string; bytes: string; transcript: boolean }

export function SessionsPage(props: { t: T; rows: SessionRow[] }) {
  const { t } = props;
  return (
    <section class="stack">
      <h1 safe>{t("shell.sessions")}</h1>
      {when(props.rows.length === 0, () => (
        <p class="empty-state" safe>
          {t("shell.empty")}
        </p>
      ))}
      {when(props.rows.length > 0, () => (
        <table class="data" id="shell-sessions">
          <thead>
            <tr>
              <th safe>{t("shell.col.when")}</th>
              <th safe>{t("shell.col.end")}</th>
              <th safe>{t("shell.col.user")}</th>
              <th safe>{t("shell.col.machine")}</th>
              <th safe>{t("shell.col.ip")}</th>
              <th safe>{t("shell.col.bytes")}</th>
              <th safe>{t("shell.col.transcript")}</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr>
                <td safe>{r.when}</td>
                <td safe>{r.end}</td>
                <td safe>{r.user}</td>
                <td safe>{r.machine}</td>
                <td safe>{r.ip}</td>
                <td class="num" safe>
                  {r.bytes}
                </td>
                <td>
                  {when(r.transcript, () => (
                    <a href={`/shell-sessions/${r.id}/transcript`} safe>
                      {t("shell.view")}
                    </a>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </section>
  );
}
