/**
 * @module views/machines/not-inventoried
 * Machines not inventoried (SPEC C9): agents known over XMPP without an inventory or with a
 * stale one, with every column of the SPEC and the actions that exist so far.
 */
import type { T } from "../../src/i18n/index.ts";
import { CsrfField } from "../shell/form.tsx";
import { when } from "../shell/layout.tsx";
import { StateBadge } from "./computers.tsx";

export interface NotInventoriedRow {
  id: number;
  hostname: string;
  jid: string;
  arch: string;
  machineClass: string;
  kiosk: boolean;
  userOu: string;
  machineOu: string;
  cluster: string;
  macs: string;
  ip: string;
  online: boolean;
  banned: boolean;
}

export function NotInventoriedPage(props: { t: T; csrf: string; rows: NotInventoriedRow[]; canBan: boolean; canDelete: boolean; canRequestInventory: boolean }) {
  const { t } = props;
  return (
    <section data-live-page>
      <div class="page-head">
        <h1 safe>{t("notinv.title")}</h1>
      </div>
      <p class="muted" safe>
        {t("notinv.intro")}
      </p>
      {when(props.rows.length === 0, () => (
        <div class="empty-state" safe>
          {t("notinv.empty")}
        </div>
      ))}
      {when(props.rows.length > 0, () => (
        <div class="table-scroll">
          <table class="data">
            <thead>
              <tr>
                {(["notinv.col.name", "computers.col.state", "notinv.col.jid", "notinv.col.arch", "notinv.col.class", "notinv.col.kiosk", "notinv.col.userOu", "notinv.col.machineOu", "notinv.col.cluster", "notinv.col.mac", "notinv.col.ip", "notinv.col.actions"] as const).map((k) => (
                  <th scope="col" safe>
                    {t(k)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {props.rows.map((r) => (
                <tr>
                  <td>
                    <a href={`/computers/${r.id}`} safe>
                      {r.hostname}
                    </a>
                  </td>
                  <td>
                    <StateBadge t={t} id={r.id} online={r.online} banned={r.banned} />
                  </td>
                  <td class="mono small" safe>{r.jid}</td>
                  <td safe>{r.arch}</td>
                  <td safe>{r.machineClass}</td>
                  <td safe>{r.kiosk ? t("notinv.yes") : t("notinv.no")}</td>
                  <td safe>{r.userOu}</td>
                  <td safe>{r.machineOu}</td>
                  <td safe>{r.cluster}</td>
                  <td class="mono small" safe>{r.macs}</td>
                  <td safe>{r.ip}</td>
                  <td class="actions">
                    {when(props.canRequestInventory && r.online && !r.banned, () => (
                      <span id={`inv-request-${r.id}`}>
                        <button type="button" class="link-button" hx-post={`/computers/${r.id}/inventory/request`} hx-target={`#inv-request-${r.id}`} hx-swap="innerHTML" safe>
                          {t("inv.request")}
                        </button>
                      </span>
                    ))}
                    {when(props.canBan, () => (
                      <form method="post" action={`/computers/${r.id}/${r.banned ? "unban" : "ban"}`} class="inline-form">
                        <CsrfField token={props.csrf} />
                        <input type="hidden" name="back" value="/computers/not-inventoried" />
                        <button type="submit" class="link-button" safe>
                          {r.banned ? t("machine.action.unban") : t("machine.action.ban")}
                        </button>
                      </form>
                    ))}
                    {when(props.canDelete, () => (
                      <form method="post" action={`/computers/${r.id}/delete`} class="inline-form">
                        <CsrfField token={props.csrf} />
                        <input type="hidden" name="back" value="/computers/not-inventoried" />
                        <button type="submit" class="link-button danger" data-confirm={t("machine.confirmDelete", { name: r.hostname })} safe>
                          {t("machine.action.delete")}
                        </button>
                      </form>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </section>
  );
}
