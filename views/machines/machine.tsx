/**
 * @module views/machines/machine
 * One machine (SPEC C2): its details, the actions frame, and the XMPP console that sends
 * one action and shows the raw request and reply.
 */
import type { T } from "../../src/i18n/index.ts";
import { CsrfField } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";
import { StateBadge } from "./computers.tsx";

export interface MachineView {
  id: number;
  hostname: string;
  online: boolean;
  banned: boolean;
  facts: [string, string][];
}

export function MachinePage(props: { t: T; csrf: string; m: MachineView; canConsole: boolean; canBan: boolean; canDelete: boolean; actions: string[]; canInventory?: boolean; safePanels?: string }) {
  const { t, m } = props;
  const safePanels = props.safePanels ?? "";
  return (
    <section class="stack" data-live-page>
      <div class="page-head">
        <h1 safe>{t("machine.title", { name: m.hostname })}</h1>
        <StateBadge t={t} id={m.id} online={m.online} banned={m.banned} />
        <span class="live-status" id="live-status" data-offline={t("dashboard.offline")} data-online={t("dashboard.live")}></span>
      </div>
      <div class="grid-2 align-start">
        <section class="card">
          <h2 safe>{t("machine.facts")}</h2>
          <dl class="facts">
            {m.facts.map(([label, value]) => (
              <>
                <dt safe>{label}</dt>
                <dd safe>{value}</dd>
              </>
            ))}
          </dl>
        </section>
        <section class="card">
          <h2 safe>{t("machine.actions")}</h2>
          <div class="action-frame">
            {when(props.canInventory !== false, () => (
              <a class="button" href={`/computers/${m.id}/inventory`} safe>
                {t("inv.open")}
              </a>
            ))}
            {when(props.canConsole, () => (
              <>
                <button type="button" hx-post={`/computers/${m.id}/console`} hx-vals='{"action":"ping"}' hx-target="#console-output" hx-swap="innerHTML" safe>
                  {t("machine.action.ping")}
                </button>
                <button type="button" hx-post={`/computers/${m.id}/console`} hx-vals='{"action":"agentversion"}' hx-target="#console-output" hx-swap="innerHTML" safe>
                  {t("machine.action.version")}
                </button>
                <button type="button" hx-post={`/computers/${m.id}/console`} hx-vals='{"action":"machinefacts"}' hx-target="#console-output" hx-swap="innerHTML" safe>
                  {t("machine.action.facts")}
                </button>
              </>
            ))}
            {when(props.canBan && !m.banned, () => (
              <form method="post" action={`/computers/${m.id}/ban`} class="inline-form">
                <CsrfField token={props.csrf} />
                <button type="submit" class="danger" data-confirm={t("machine.confirmBan", { name: m.hostname })} safe>
                  {t("machine.action.ban")}
                </button>
              </form>
            ))}
            {when(props.canBan && m.banned, () => (
              <form method="post" action={`/computers/${m.id}/unban`} class="inline-form">
                <CsrfField token={props.csrf} />
                <button type="submit" safe>
                  {t("machine.action.unban")}
                </button>
              </form>
            ))}
            {when(props.canDelete, () => (
              <form method="post" action={`/computers/${m.id}/delete`} class="inline-form">
                <CsrfField token={props.csrf} />
                <button type="submit" class="danger" data-confirm={t("machine.confirmDelete", { name: m.hostname })} safe>
                  {t("machine.action.delete")}
                </button>
              </form>
            ))}
          </div>
          <p class="muted small" safe>
            {t("machine.comingLater")}
          </p>
        </section>
      </div>
      {safePanels}
      {when(props.canConsole, () => (
        <section class="card" id="console">
          <h2 safe>{t("console.title")}</h2>
          <form class="console-form" hx-post={`/computers/${m.id}/console`} hx-target="#console-output" hx-swap="innerHTML">
            <label for="console-action" safe>
              {t("console.action")}
            </label>
            <input id="console-action" name="action" list="console-actions" value="ping" maxlength="100" required />
            <datalist id="console-actions">
              {props.actions.map((a) => (
                <option value={a} />
              ))}
            </datalist>
            <label for="console-data" safe>
              {t("console.data")}
            </label>
            <textarea id="console-data" name="data" rows="3" class="mono">
              {"{}"}
            </textarea>
            <button type="submit" class="primary" safe>
              {t("console.send")}
            </button>
          </form>
          <div id="console-output" aria-live="polite"></div>
        </section>
      ))}
    </section>
  );
}

export function ConsoleResult(props: { t: T; request: string; reply: string | null; error: string | null; ms: number }) {
  const { t } = props;
  return (
    <div class="console-result">
      <h3 safe>{t("console.request")}</h3>
      <pre class="mono" safe>
        {props.request}
      </pre>
      <h3 safe>{`${t("console.reply")} · ${t("console.took", { ms: props.ms })}`}</h3>
      {when(props.reply !== null, () => (
        <pre class="mono" safe>
          {props.reply!}
        </pre>
      ))}
      {when(props.error !== null, () => <Alert kind="error" text={t("console.noReply", { error: props.error! })} />)}
    </div>
  );
}
