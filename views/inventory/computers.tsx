/**
 * @module views/inventory/computers
 * The inventory-only computers view (SPEC C3): machines known from inventory with their
 * system, model, serial, entity, last user and last inventory date (a badge past 10 days);
 * filters for connection state, inventory age and entity; a search; sortable columns;
 * keyset paging; the CSV export of the filtered list (its link follows the filters, as it
 * sits in the table fragment `#inventory-table`). The search box's own change event (on
 * blur) triggers nothing: clicking the export link must not swap the table under it. State badges are the machines feature's,
 * so they change live like on the Computers view.
 */
import type { T } from "../../src/i18n/index.ts";
import { when } from "../shell/layout.tsx";
import { StateBadge } from "../machines/computers.tsx";
import { orDash } from "./format.ts";

export interface InventoryComputerRow {
  id: number;
  hostname: string;
  online: boolean;
  banned: boolean;
  os: string;
  model: string;
  serial: string;
  entity: string;
  user: string;
  date: string;
  isStale: boolean;
}

export interface InventoryComputersQuery {
  state: "all" | "online" | "offline";
  age: "all" | "fresh" | "stale";
  entity: string;
  q: string;
  sort: string;
  dir: "asc" | "desc";
}

export interface InventoryTableProps {
  t: T;
  rows: InventoryComputerRow[];
  query: InventoryComputersQuery;
  next: string | null;
  isFirst: boolean;
  counts: { total: number; stale: number };
}

/** The list's query string (defaults left out), with extra parameters. */
export function computersQs(q: InventoryComputersQuery, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams({ state: q.state, age: q.age, entity: q.entity, q: q.q, sort: q.sort, dir: q.dir, ...extra });
  for (const [k, v] of [...p]) if (v === "" || (k === "state" && v === "all") || (k === "age" && v === "all") || (k === "sort" && v === "name") || (k === "dir" && v === "asc")) p.delete(k);
  const s = p.toString();
  return s ? `?${s}` : "";
}

export function InventoryComputersPage(props: InventoryTableProps & { entities: { value: string; label: string }[] }) {
  const { t, query } = props;
  return (
    <section data-live-page>
      <div class="page-head">
        <h1 safe>{t("invc.title")}</h1>
        <span class="live-status" id="live-status" data-offline={t("dashboard.offline")} data-online={t("dashboard.live")}></span>
      </div>
      <p class="muted" safe>
        {t("invc.intro")}
      </p>
      <form
        id="inventory-filters"
        class="toolbar filters"
        method="get"
        action="/inventory"
        hx-get="/inventory"
        hx-target="#inventory-table"
        hx-swap="outerHTML"
        hx-push-url="true"
        hx-trigger="change from:#inventory-state, change from:#inventory-age, change from:#inventory-entity, input changed delay:300ms from:#inventory-search, search from:#inventory-search, submit"
      >
        <fieldset class="segmented" id="inventory-state">
          <legend class="visually-hidden" safe>
            {t("computers.filter.state")}
          </legend>
          {(["all", "online", "offline"] as const).map((s) => (
            <label>
              <input type="radio" name="state" value={s} checked={query.state === s} />
              <span safe>{t(`computers.filter.${s}`)}</span>
            </label>
          ))}
        </fieldset>
        <label for="inventory-age" class="visually-hidden" safe>
          {t("invc.filter.age")}
        </label>
        <select id="inventory-age" name="age">
          {(["all", "fresh", "stale"] as const).map((a) => (
            <option value={a} selected={query.age === a} safe>
              {t(`invc.age.${a}`)}
            </option>
          ))}
        </select>
        <label for="inventory-entity" class="visually-hidden" safe>
          {t("computers.filter.entity")}
        </label>
        <select id="inventory-entity" name="entity">
          <option value="" safe>
            {t("computers.filter.allEntities")}
          </option>
          {props.entities.map((e) => (
            <option value={e.value} selected={query.entity === e.value} safe>
              {e.label}
            </option>
          ))}
        </select>
        <label for="inventory-search" class="visually-hidden" safe>
          {t("invc.search")}
        </label>
        <input id="inventory-search" type="search" name="q" value={query.q} placeholder={t("invc.search")} />
        <input type="hidden" name="sort" value={query.sort} />
        <input type="hidden" name="dir" value={query.dir} />
        <noscript>
          <button type="submit">OK</button>
        </noscript>
      </form>
      <InventoryTable {...props} />
    </section>
  );
}

export function InventoryTable(props: InventoryTableProps) {
  const { t, query } = props;
  const cols: [string, Parameters<T>[0]][] = [
    ["state", "invc.col.state"], ["name", "invc.col.name"], ["os", "invc.col.os"], ["model", "invc.col.model"], ["serial", "invc.col.serial"],
    ["entity", "invc.col.entity"], ["user", "invc.col.user"], ["date", "invc.col.date"],
  ];
  const link = (href: string, label: string) => (
    <a href={href} hx-get={href} hx-target="#inventory-table" hx-swap="outerHTML" hx-push-url="true" safe>
      {label}
    </a>
  );
  return (
    <div id="inventory-table">
      <div class="toolbar list-summary">
        <span class="muted small" id="inventory-count" safe>
          {t("invc.count", props.counts)}
        </span>
        {when(props.counts.total > 0, () => (
          <a class="button" href={`/inventory/export.csv${computersQs(query)}`} download="" safe>
            {t("invc.export")}
          </a>
        ))}
      </div>
      {when(props.rows.length === 0, () => (
        <div class="empty-state" safe>
          {props.counts.total === 0 ? t("invc.empty") : t("invc.noMatch")}
        </div>
      ))}
      {when(props.rows.length > 0, () => (
        <div class="table-scroll">
          <table class="data">
            <thead>
              <tr>
                {cols.map(([key, label]) => {
                  const active = query.sort === key;
                  const dir = active && query.dir === "asc" ? "desc" : "asc";
                  return (
                    <th scope="col" aria-sort={active ? (query.dir === "asc" ? "ascending" : "descending") : undefined}>
                      {link(`/inventory${computersQs(query, { sort: key, dir })}`, `${t(label)}${active ? (query.dir === "asc" ? " ▲" : " ▼") : ""}`)}
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {props.rows.map((r) => (
                <tr id={`inventory-machine-${r.id}`}>
                  <td>
                    <StateBadge t={t} id={r.id} online={r.online} banned={r.banned} />
                  </td>
                  <td>
                    <a href={`/computers/${r.id}/inventory`} safe>
                      {r.hostname}
                    </a>
                  </td>
                  <td safe>{orDash(r.os)}</td>
                  <td safe>{orDash(r.model)}</td>
                  <td class="mono" safe>
                    {orDash(r.serial)}
                  </td>
                  <td safe>{r.entity}</td>
                  <td safe>{orDash(r.user)}</td>
                  <td class="nowrap">
                    <span safe>{r.date}</span>
                    {when(r.isStale, () => (
                      <span class="badge badge-stale" safe>
                        {t("inv.stale")}
                      </span>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
      <nav class="pager">
        {when(!props.isFirst, () => link(`/inventory${computersQs(query)}`, t("inv.first")))}
        {when(props.next !== null, () => link(`/inventory${computersQs(query, { after: props.next! })}`, t("inv.more")))}
      </nav>
    </div>
  );
}
