/**
 * @module views/machines/computers
 * The Computers view (SPEC C1): all / online / offline, entity filter, search over every
 * visible column, sortable columns, keyset paging. Each row's state cell has an id so a
 * live event can replace it; when machines come or go, the page offers a refresh.
 */
import type { T } from "../../src/i18n/index.ts";
import { when } from "../shell/layout.tsx";

export interface ComputerRow {
  id: number;
  hostname: string;
  online: boolean;
  banned: boolean;
  os: string;
  ip: string;
  user: string;
  entity: string;
  seen: string;
}

export interface ComputersQuery {
  state: "all" | "online" | "offline";
  entity: string;
  q: string;
  sort: string;
  dir: "asc" | "desc";
}

export interface ComputersTableProps {
  t: T;
  rows: ComputerRow[];
  query: ComputersQuery;
  next: string | null;
  isFirst: boolean;
  counts: { online: number; total: number };
}

export function StateBadge(props: { t: T; id: number; online: boolean; banned: boolean }) {
  const { t } = props;
  const label = props.banned ? t("computers.banned") : props.online ? t("computers.online") : t("computers.offline");
  const kind = props.banned ? "banned" : props.online ? "online" : "offline";
  return (
    <span id={`machine-state-${props.id}`} class={`state state-${kind}`} safe>
      {label}
    </span>
  );
}

export function ComputersPage(props: ComputersTableProps & { entities: { value: string; label: string }[] }) {
  const { t, query } = props;
  const states: ComputersQuery["state"][] = ["all", "online", "offline"];
  return (
    <section data-live-page>
      <div class="page-head">
        <h1 safe>{t("computers.title")}</h1>
        <span class="live-status" id="live-status" data-offline={t("dashboard.offline")} data-online={t("dashboard.live")}></span>
      </div>
      <form id="computers-filters" class="toolbar filters" method="get" action="/computers" hx-get="/computers" hx-target="#computers-table" hx-swap="outerHTML" hx-push-url="true" hx-trigger="change, input changed delay:300ms from:#computers-search, search from:#computers-search">
        <fieldset class="segmented">
          <legend class="visually-hidden" safe>{t("computers.filter.state")}</legend>
          {states.map((s) => (
            <label>
              <input type="radio" name="state" value={s} checked={query.state === s} />
              <span safe>{t(`computers.filter.${s}`)}</span>
            </label>
          ))}
        </fieldset>
        <label for="computers-entity" class="visually-hidden" safe>
          {t("computers.filter.entity")}
        </label>
        <select id="computers-entity" name="entity">
          <option value="" safe>{t("computers.filter.allEntities")}</option>
          {props.entities.map((e) => (
            <option value={e.value} selected={query.entity === e.value} safe>
              {e.label}
            </option>
          ))}
        </select>
        <label for="computers-search" class="visually-hidden" safe>
          {t("computers.search")}
        </label>
        <input id="computers-search" type="search" name="q" value={query.q} placeholder={t("computers.search")} />
        <input type="hidden" name="sort" value={query.sort} />
        <input type="hidden" name="dir" value={query.dir} />
        <noscript>
          <button type="submit">OK</button>
        </noscript>
      </form>
      <div id="computers-changed" class="alert alert-info" data-show-on="machines-changed" hidden>
        <span safe>{t("computers.changed")}</span>{" "}
        <button type="button" class="link-button" hx-get="/computers" hx-include="#computers-filters" hx-target="#computers-table" hx-swap="outerHTML" data-hide-parent safe>
          {t("computers.refresh")}
        </button>
      </div>
      <ComputersTable {...props} />
    </section>
  );
}

function qs(q: ComputersQuery, extra: Record<string, string>): string {
  const p = new URLSearchParams({ state: q.state, entity: q.entity, q: q.q, sort: q.sort, dir: q.dir, ...extra });
  for (const [k, v] of [...p]) if (v === "") p.delete(k);
  return `/computers?${p}`;
}

export function ComputersTable(props: ComputersTableProps) {
  const { t, query } = props;
  const cols: [string, Parameters<T>[0]][] = [
    ["state", "computers.col.state"], ["hostname", "computers.col.name"], ["os", "computers.col.os"], ["ip", "computers.col.ip"],
    ["user", "computers.col.user"], ["entity", "computers.col.entity"], ["seen", "computers.col.seen"],
  ];
  return (
    <div id="computers-table">
      <p class="muted small" id="computers-count" safe>
        {t("computers.count", props.counts)}
      </p>
      {when(props.rows.length === 0, () => (
        <div class="empty-state" safe>
          {props.counts.total === 0 ? t("computers.empty") : t("computers.noMatch")}
        </div>
      ))}
      {when(props.rows.length > 0, () => (
        <table class="data">
          <thead>
            <tr>
              {cols.map(([key, label]) => {
                const active = query.sort === key;
                const dir = active && query.dir === "asc" ? "desc" : "asc";
                const href = qs(query, { sort: key, dir });
                return (
                  <th scope="col" aria-sort={active ? (query.dir === "asc" ? "ascending" : "descending") : undefined}>
                    <a href={href} hx-get={href} hx-target="#computers-table" hx-swap="outerHTML" hx-push-url="true" safe>
                      {`${t(label)}${active ? (query.dir === "asc" ? " ▲" : " ▼") : ""}`}
                    </a>
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr id={`machine-${r.id}`}>
                <td>
                  <StateBadge t={t} id={r.id} online={r.online} banned={r.banned} />
                </td>
                <td>
                  <a href={`/computers/${r.id}`} safe>
                    {r.hostname}
                  </a>
                </td>
                <td safe>{r.os}</td>
                <td safe>{r.ip}</td>
                <td safe>{r.user}</td>
                <td safe>{r.entity}</td>
                <td id={`machine-seen-${r.id}`} safe>
                  {r.seen}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
      <nav class="pager">
        {when(!props.isFirst, () => (
          <a href={qs(query, {})} hx-get={qs(query, {})} hx-target="#computers-table" hx-swap="outerHTML" hx-push-url="true" safe>
            {t("computers.first")}
          </a>
        ))}
        {when(props.next !== null, () => (
          <a href={qs(query, { after: props.next! })} hx-get={qs(query, { after: props.next! })} hx-target="#computers-table" hx-swap="outerHTML" hx-push-url="true" safe>
            {t("computers.more")}
          </a>
        ))}
      </nav>
    </div>
  );
}
