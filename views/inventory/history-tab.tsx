/**
 * @module views/inventory/history-tab
 * What changed between a machine's inventories (`inv_changes`), newest first, a page at
 * a time; the list is its own fragment (`#inventory-history`).
 */
import type { T } from "../../src/i18n/index.ts";
import { when } from "../shell/layout.tsx";
import { orDash } from "./format.ts";
import { inventoryHref } from "./inventory-page.tsx";

export interface ChangeRow {
  date: string;
  section: string;
  change: "added" | "removed" | "changed";
  item: string;
  before: string;
  after: string;
}

export function HistoryTab(props: { t: T; id: number; rows: ChangeRow[]; older: string | null; isFirst: boolean }) {
  const { t } = props;
  const link = (href: string, label: string) => (
    <a href={href} hx-get={href} hx-target="#inventory-history" hx-swap="outerHTML" hx-push-url="true" safe>
      {label}
    </a>
  );
  return (
    <div id="inventory-history">
      {props.rows.length === 0 ? (
        <p class="empty-state" safe>
          {t("inv.hist.empty")}
        </p>
      ) : (
        <div class="table-scroll">
          <table class="data inventory-changes">
            <thead>
              <tr>
                {[t("inv.col.date"), t("inv.col.section"), t("inv.col.change"), t("inv.col.item"), t("inv.col.before"), t("inv.col.after")].map((h) => (
                  <th scope="col" safe>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {props.rows.map((c) => (
                <tr class={`change-${c.change}`}>
                  <td class="nowrap" safe>
                    {c.date}
                  </td>
                  <td safe>{c.section}</td>
                  <td>
                    <span class={`change change-${c.change}`} safe>
                      {t(`inv.change.${c.change}`)}
                    </span>
                  </td>
                  <td safe>{c.item}</td>
                  <td class="mono small" safe>
                    {orDash(c.before)}
                  </td>
                  <td class="mono small" safe>
                    {orDash(c.after)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager">
        {when(!props.isFirst, () => link(inventoryHref(props.id, "history"), t("inv.hist.newest")))}
        {when(props.older !== null, () => link(inventoryHref(props.id, "history", { before: props.older! }), t("inv.hist.older")))}
      </nav>
    </div>
  );
}
