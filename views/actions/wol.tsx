/**
 * @module views/actions/wol
 * The Wake-on-LAN page (SPEC C8): machines that can be woken, their state, MAC and
 * network, the last wake and its result; wake one, wake a selection, schedule a wake.
 */
import type { T } from "../../src/i18n/index.ts";
import { CsrfField } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";
import { StateBadge } from "../machines/computers.tsx";

export interface WolRow {
  id: number;
  hostname: string;
  online: boolean;
  banned: boolean;
  macs: string;
  subnet: string;
  last: string;
  result: string;
}

export function WolPage(props: { t: T; csrf: string; rows: WolRow[]; canWake: boolean; notice?: string; error?: string }) {
  const { t } = props;
  return (
    <section class="stack" data-live-page>
      <div class="page-head">
        <h1 safe>{t("wol.title")}</h1>
        <span class="live-status" id="live-status" data-offline={t("dashboard.offline")} data-online={t("dashboard.live")}></span>
      </div>
      <p class="muted" safe>
        {t("wol.intro")}
      </p>
      {when(props.notice, () => <Alert kind="success" text={props.notice!} />)}
      {when(props.error, () => <Alert kind="error" text={props.error!} />)}
      {when(props.rows.length === 0, () => (
        <p class="empty-state" safe>
          {t("wol.empty")}
        </p>
      ))}
      {when(props.rows.length > 0, () => (
        <form method="post" action="/wol/wake" id="wol-form">
          <CsrfField token={props.csrf} />
          <table class="data" id="wol-table">
            <thead>
              <tr>
                {when(props.canWake, () => (
                  <th>
                    <input type="checkbox" data-select-all="machines" aria-label={t("qa.run.selectAll")} />
                  </th>
                ))}
                <th safe>{t("wol.col.name")}</th>
                <th safe>{t("wol.col.state")}</th>
                <th safe>{t("wol.col.mac")}</th>
                <th safe>{t("wol.col.subnet")}</th>
                <th safe>{t("wol.col.last")}</th>
                <th safe>{t("wol.col.result")}</th>
                {when(props.canWake, () => (
                  <th></th>
                ))}
              </tr>
            </thead>
            <tbody>
              {props.rows.map((r) => (
                <tr>
                  {when(props.canWake, () => (
                    <td>
                      <input type="checkbox" name="machines" value={String(r.id)} aria-label={r.hostname} />
                    </td>
                  ))}
                  <td>
                    <a href={`/computers/${r.id}`} safe>
                      {r.hostname}
                    </a>
                  </td>
                  <td>
                    <StateBadge t={t} id={r.id} online={r.online} banned={r.banned} />
                  </td>
                  <td class="mono" safe>
                    {r.macs}
                  </td>
                  <td class="mono" safe>
                    {r.subnet}
                  </td>
                  <td safe>{r.last}</td>
                  <td safe>{r.result}</td>
                  {when(props.canWake, () => (
                    <td>
                      <button type="submit" name="one" value={String(r.id)} safe>
                        {t("wol.wake")}
                      </button>
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {when(props.canWake, () => (
            <div class="form-actions">
              <button type="submit" class="primary" safe>
                {t("wol.wakeSelection")}
              </button>
              <label for="wol-at" safe>
                {t("wol.scheduleAt")}
              </label>
              <input type="datetime-local" id="wol-at" name="at" />
              <button type="submit" formaction="/wol/schedule" safe>
                {t("wol.schedule")}
              </button>
            </div>
          ))}
        </form>
      ))}
    </section>
  );
}
