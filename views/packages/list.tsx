/**
 * @module views/packages/list
 * The package list (SPEC P1): name, description, action type, version, OS, rights, date;
 * search as one types, sort by name / date / version; and the pending packages (P3).
 */
import type { T } from "../../src/i18n/index.ts";
import { CsrfField } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";
import { EmptyList } from "../shell/list-parts.tsx";

export interface PackageListRow {
  id: number;
  name: string;
  version: string;
  description: string;
  kind: "install" | "uninstall" | "script";
  os: string;
  date: string;
  size: string;
  locked: boolean;
}

export interface PackagesQuery {
  q: string;
  sort: "name" | "date" | "version";
  dir: "asc" | "desc";
  offset: number;
}

export interface PackagesTableProps {
  t: T;
  csrf: string;
  rows: PackageListRow[];
  total: number;
  query: PackagesQuery;
  next: number | null;
  rights: string;
  canEdit: boolean;
  canDelete: boolean;
}

function qs(q: PackagesQuery, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams({ q: q.q, sort: q.sort, dir: q.dir, ...extra });
  for (const [k, v] of [...p]) if (v === "" || (k === "offset" && v === "0")) p.delete(k);
  return `/packages?${p}`;
}

export function PackagesPage(props: PackagesTableProps & { notice?: string }) {
  const { t } = props;
  return (
    <section>
      <div class="page-head">
        <h1 safe>{t("packages.title")}</h1>
        <span class="actions">
          {when(props.canEdit, () => (
            <>
              <a class="button primary" href="/packages/new" safe>
                {t("nav.packages.add")}
              </a>{" "}
              <a class="button" href="/packages/import" safe>
                {t("packages.import.title")}
              </a>
            </>
          ))}
        </span>
      </div>
      {when(props.notice, () => <Alert kind="success" text={props.notice!} />)}
      <form class="toolbar" method="get" action="/packages" hx-get="/packages" hx-target="#packages-table" hx-swap="outerHTML" hx-push-url="true" hx-trigger="input changed delay:300ms from:#packages-search, search from:#packages-search, submit">
        <label for="packages-search" class="visually-hidden" safe>
          {t("packages.search")}
        </label>
        <input id="packages-search" type="search" name="q" value={props.query.q} placeholder={t("packages.search")} />
        <input type="hidden" name="sort" value={props.query.sort} />
        <input type="hidden" name="dir" value={props.query.dir} />
        <noscript>
          <button type="submit">OK</button>
        </noscript>
      </form>
      <PackagesTable {...props} />
    </section>
  );
}

export function PackagesTable(props: PackagesTableProps) {
  const { t, query } = props;
  const sortLink = (key: PackagesQuery["sort"], label: string) => {
    const active = query.sort === key;
    const href = qs(query, { sort: key, dir: active && query.dir === "asc" ? "desc" : "asc" });
    return (
      <a href={href} hx-get={href} hx-target="#packages-table" hx-swap="outerHTML" hx-push-url="true" aria-label={label}>
        {active ? (query.dir === "asc" ? " ▲" : " ▼") : " ⇅"}
      </a>
    );
  };
  return (
    <div id="packages-table">
      <p class="muted small" safe>
        {t("packages.count", { count: props.total })}
      </p>
      {when(props.rows.length === 0, () => (
        <EmptyList search={query.q} empty={t("packages.empty")} noMatch={t("packages.noMatch")} />
      ))}
      {when(props.rows.length > 0, () => (
        <table class="data" id="packages-list">
          <thead>
            <tr>
              <th scope="col" aria-sort={query.sort === "name" ? (query.dir === "asc" ? "ascending" : "descending") : undefined}>
                <span safe>{t("packages.col.name")}</span>
                {sortLink("name", t("packages.sort.name"))}
              </th>
              <th scope="col" safe>{t("packages.col.description")}</th>
              <th scope="col" safe>{t("packages.col.kind")}</th>
              <th scope="col" aria-sort={query.sort === "version" ? (query.dir === "asc" ? "ascending" : "descending") : undefined}>
                <span safe>{t("packages.col.version")}</span>
                {sortLink("version", t("packages.sort.version"))}
              </th>
              <th scope="col" safe>{t("packages.col.os")}</th>
              <th scope="col" safe>{t("packages.col.rights")}</th>
              <th scope="col" aria-sort={query.sort === "date" ? (query.dir === "asc" ? "ascending" : "descending") : undefined}>
                <span safe>{t("packages.col.date")}</span>
                {sortLink("date", t("packages.sort.date"))}
              </th>
              <th scope="col" safe>{t("packages.col.actions")}</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr id={`package-${r.id}`}>
                <td>
                  <a href={`/packages/${r.id}`} safe>
                    {r.name}
                  </a>
                  {when(r.locked, () => (
                    <span class="badge" title={t("packages.locked")}>
                      {" 🔒"}
                    </span>
                  ))}
                </td>
                <td safe>{r.description}</td>
                <td safe>{t(`packages.kind.${r.kind}`)}</td>
                <td safe>{r.version}</td>
                <td safe>{r.os}</td>
                <td safe>{props.rights}</td>
                <td safe>{r.date}</td>
                <td class="row-actions">
                  {when(props.canEdit, () => (
                    <>
                      <a href={`/packages/${r.id}/edit`} safe>
                        {t("packages.action.edit")}
                      </a>{" "}
                      <a href={`/packages/${r.id}/steps`} safe>
                        {t("packages.action.steps")}
                      </a>{" "}
                    </>
                  ))}
                  {when(props.canDelete, () => (
                    <form method="post" action={`/packages/${r.id}/delete`} class="inline">
                      <CsrfField token={props.csrf} />
                      <button type="submit" class="link-button danger" data-confirm={t("packages.confirmDelete", { name: r.name, version: r.version })} safe>
                        {t("packages.action.delete")}
                      </button>
                    </form>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
      <nav class="pager">
        {when(query.offset > 0, () => (
          <a href={qs(query)} hx-get={qs(query)} hx-target="#packages-table" hx-swap="outerHTML" hx-push-url="true">
            {"«"}
          </a>
        ))}
        {when(props.next !== null, () => (
          <a href={qs(query, { offset: String(props.next) })} hx-get={qs(query, { offset: String(props.next) })} hx-target="#packages-table" hx-swap="outerHTML" hx-push-url="true" safe>
            {t("packages.more")}
          </a>
        ))}
      </nav>
    </div>
  );
}

export interface PendingRow {
  id: number;
  name: string;
  version: string;
  description: string;
  os: string;
  relay: string;
  state: "pending" | "syncing" | "synced" | "error";
  error: string;
}

export function PendingPage(props: { t: T; csrf: string; rows: PendingRow[]; q: string; canDelete: boolean; canEdit: boolean; notice?: string; warning?: string }) {
  const { t } = props;
  return (
    <section>
      <div class="page-head">
        <h1 safe>{t("packages.pending.title")}</h1>
        {when(props.canDelete && props.rows.length > 0, () => (
          <form method="post" action="/packages/pending/delete-all" class="inline">
            <CsrfField token={props.csrf} />
            <input type="hidden" name="q" value={props.q} />
            <button type="submit" class="button danger" data-confirm={t("packages.pending.confirmAll")} safe>
              {t("packages.pending.deleteAll")}
            </button>
          </form>
        ))}
      </div>
      {when(props.notice, () => <Alert kind="success" text={props.notice!} />)}
      {when(props.warning, () => <Alert kind="error" text={props.warning!} />)}
      <form class="toolbar" method="get" action="/packages/pending">
        <label for="pending-search" class="visually-hidden" safe>
          {t("packages.pending.search")}
        </label>
        <input id="pending-search" type="search" name="q" value={props.q} placeholder={t("packages.pending.search")} />
        <button type="submit">OK</button>
      </form>
      {when(props.rows.length === 0, () => (
        <div class="empty-state" safe>
          {t("packages.pending.empty")}
        </div>
      ))}
      {when(props.rows.length > 0, () => (
        <table class="data" id="pending-list">
          <thead>
            <tr>
              <th scope="col" safe>{t("packages.col.name")}</th>
              <th scope="col" safe>{t("packages.col.description")}</th>
              <th scope="col" safe>{t("packages.col.version")}</th>
              <th scope="col" safe>{t("packages.col.os")}</th>
              <th scope="col" safe>{t("packages.pending.col.relay")}</th>
              <th scope="col" safe>{t("packages.pending.col.state")}</th>
              <th scope="col" safe>{t("packages.col.actions")}</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr>
                <td>
                  <a href={`/packages/${r.id}`} safe>
                    {r.name}
                  </a>
                </td>
                <td safe>{r.description}</td>
                <td safe>{r.version}</td>
                <td safe>{r.os}</td>
                <td safe>{r.relay === "local" ? t("packages.pending.local") : r.relay}</td>
                <td>
                  <span class={`state state-${r.state}`} safe>
                    {t(`packages.sync.${r.state}`)}
                  </span>
                  {when(r.error, () => (
                    <p class="field-error" safe>
                      {r.error}
                    </p>
                  ))}
                </td>
                <td class="row-actions">
                  {when(props.canEdit, () => (
                    <form method="post" action={`/packages/pending/${r.id}/sync`} class="inline">
                      <CsrfField token={props.csrf} />
                      <button type="submit" class="link-button" safe>
                        {t("packages.pending.sync")}
                      </button>
                    </form>
                  ))}
                  {when(props.canDelete, () => (
                    <form method="post" action={`/packages/pending/${r.id}/delete`} class="inline">
                      <CsrfField token={props.csrf} />
                      <button type="submit" class="link-button danger" data-confirm={t("packages.confirmDelete", { name: r.name, version: r.version })} safe>
                        {t("packages.pending.deleteOne")}
                      </button>
                    </form>
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
