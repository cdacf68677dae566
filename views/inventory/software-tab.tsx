/**
 * @module views/inventory/software-tab
 * A machine's software: a search box that filters as one types (name, version, publisher),
 * sortable columns, the count, and keyset paging. The list is its own fragment
 * (`#software-list`), so typing never replaces the box being typed in.
 */
import type { T } from "../../src/i18n/index.ts";
import type { SoftwarePart } from "../../src/features/inventory/read.ts";
import { when } from "../shell/layout.tsx";
import { orDash, sizeKb, type Lang } from "./format.ts";
import { inventoryHref } from "./inventory-page.tsx";

export interface SoftwareQuery {
  q: string;
  sort: "name" | "version" | "publisher";
  dir: "asc" | "desc";
}

export interface SoftwareListProps {
  t: T;
  lang: Lang;
  id: number;
  query: SoftwareQuery;
  rows: SoftwarePart[];
  total: number;
  matched: number | null;
  next: string | null;
  isFirst: boolean;
}

/** The address of the software tab with this search, sort and page (defaults left out). */
export const softwareHref = (id: number, q: SoftwareQuery, extra: Record<string, string> = {}) => inventoryHref(id, "software", { q: q.q, sort: q.sort === "name" ? "" : q.sort, dir: q.dir === "asc" ? "" : q.dir, ...extra });

export function SoftwareTab(props: SoftwareListProps) {
  const { t, id, query } = props;
  return (
    <div class="stack">
      <form
        id="software-form"
        class="toolbar"
        method="get"
        action={`/computers/${id}/inventory`}
        hx-get={`/computers/${id}/inventory`}
        hx-target="#software-list"
        hx-swap="outerHTML"
        hx-push-url="true"
        hx-trigger="input changed delay:300ms from:#software-q, search from:#software-q, submit"
      >
        <input type="hidden" name="tab" value="software" />
        <label for="software-q" class="visually-hidden" safe>
          {t("inv.sw.search")}
        </label>
        <input id="software-q" type="search" name="q" value={query.q} placeholder={t("inv.sw.search")} autocomplete="off" />
        <input type="hidden" name="sort" value={query.sort} />
        <input type="hidden" name="dir" value={query.dir} />
      </form>
      <SoftwareList {...props} />
    </div>
  );
}

export function SoftwareList(props: SoftwareListProps) {
  const { t, id, query } = props;
  const cols: [SoftwareQuery["sort"] | null, string][] = [
    ["name", t("inv.col.name")], ["version", t("inv.col.version")], ["publisher", t("inv.col.publisher")],
    [null, t("inv.col.arch")], [null, t("inv.col.installDate")], [null, t("inv.col.size")],
  ];
  const link = (href: string, label: string) => (
    <a href={href} hx-get={href} hx-target="#software-list" hx-swap="outerHTML" hx-push-url="true" safe>
      {label}
    </a>
  );
  return (
    <div id="software-list">
      <p class="muted small" id="software-count" safe>
        {props.matched === null ? t("inv.sw.count", { count: props.total }) : t("inv.sw.matched", { matched: props.matched, count: props.total })}
      </p>
      {props.rows.length === 0 ? (
        <p class="empty-state" safe>
          {props.total === 0 ? t("inv.nothing") : t("inv.sw.noMatch")}
        </p>
      ) : (
        <div class="table-scroll">
          <table class="data inventory-software">
            <thead>
              <tr>
                {cols.map(([key, label]) => {
                  if (!key) {
                    return (
                      <th scope="col" safe>
                        {label}
                      </th>
                    );
                  }
                  const active = query.sort === key;
                  const dir = active && query.dir === "asc" ? "desc" : "asc";
                  return (
                    <th scope="col" aria-sort={active ? (query.dir === "asc" ? "ascending" : "descending") : undefined}>
                      {link(softwareHref(id, { ...query, sort: key, dir }), `${label}${active ? (query.dir === "asc" ? " ▲" : " ▼") : ""}`)}
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {props.rows.map((s) => (
                <tr>
                  <td safe>{s.name}</td>
                  <td class="mono" safe>
                    {orDash(s.version)}
                  </td>
                  <td safe>{orDash(s.publisher)}</td>
                  <td safe>{orDash(s.arch)}</td>
                  <td class="nowrap" safe>
                    {orDash(s.installDate)}
                  </td>
                  <td class="nowrap" safe>
                    {sizeKb(s.sizeKb, props.lang)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager">
        {when(!props.isFirst, () => link(softwareHref(id, query), t("inv.first")))}
        {when(props.next !== null, () => link(softwareHref(id, query, { after: props.next! }), t("inv.more")))}
      </nav>
    </div>
  );
}
