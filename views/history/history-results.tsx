/**
 * @module views/history/history-results
 * The fragment htmx swaps when a filter changes or a page turns (`#history-results`): the
 * export links for the current filters, the log table (SPEC L3) or its empty state, and
 * the newer / older links. Each field's error slot rides along out of band, emptied, so
 * an error shown by an earlier request goes away once the filters are valid again.
 */
import type { T } from "../../src/i18n/index.ts";
import { when } from "../shell/layout.tsx";

export interface EntryRow {
  id: number;
  iso: string;
  date: string;
  user: string;
  who: string;
  module: string;
  text: string;
  ip: string;
  target: string;
}

export interface ResultsProps {
  t: T;
  entries: EntryRow[];
  /** Query string of the filters (with its "?", or empty), without cursor. */
  query: string;
  newer: string | null;
  older: string | null;
  isFiltered: boolean;
  isPaged: boolean;
}

/** The id of the element that shows a filter field's error. */
export const errorSlotId = (field: string) => `history-${field}-error`;

export function ErrorSlot(props: { field: string; message?: string; oob?: boolean }) {
  return (
    <p class="field-error" id={errorSlotId(props.field)} hx-swap-oob={props.oob ? "true" : undefined} safe>
      {props.message ?? ""}
    </p>
  );
}

function pageLink(query: string, param: "before" | "after" | null, cursor: string | null): string {
  const base = `/history${query}`;
  if (!param || !cursor) return base;
  return `${base}${query ? "&" : "?"}${param}=${encodeURIComponent(cursor)}`;
}

function PagerLink(props: { href: string; label: string; rel?: string }) {
  return (
    <a href={props.href} rel={props.rel} hx-get={props.href} hx-target="#history-results" hx-swap="outerHTML" hx-push-url="true" safe>
      {props.label}
    </a>
  );
}

export function HistoryResults(props: ResultsProps & { clearErrors?: readonly string[] }) {
  const { t } = props;
  return (
    <>
      <div id="history-results" class="history-results">
        <div class="toolbar history-exports">
          <span class="muted small" safe>
            {t("history.shown", { n: props.entries.length })}
          </span>
          <a class="button" href={`/history/export.csv${props.query}`} safe>
            {t("history.export.csv")}
          </a>
          <a class="button" href={`/history/export.pdf${props.query}`} safe>
            {t("history.export.pdf")}
          </a>
        </div>
        {props.entries.length === 0 ? (
          <p class="empty-state" safe>
            {props.isFiltered || props.isPaged ? t("history.empty.filtered") : t("history.empty.none")}
          </p>
        ) : (
          <div class="history-table-wrap">
            <table class="data history-table">
              <caption class="visually-hidden" safe>
                {t("history.table")}
              </caption>
              <thead>
                <tr>
                  <th scope="col" safe>{t("history.col.date")}</th>
                  <th scope="col" safe>{t("history.col.user")}</th>
                  <th scope="col" safe>{t("history.col.who")}</th>
                  <th scope="col" safe>{t("history.col.module")}</th>
                  <th scope="col" safe>{t("history.col.text")}</th>
                  <th scope="col" safe>{t("history.col.ip")}</th>
                  <th scope="col" safe>{t("history.col.target")}</th>
                </tr>
              </thead>
              <tbody>
                {props.entries.map((e) => (
                  <tr>
                    <td class="history-date">
                      <time datetime={e.iso} safe>
                        {e.date}
                      </time>
                    </td>
                    <td safe>{e.user}</td>
                    <td safe>{e.who}</td>
                    <td safe>{e.module}</td>
                    <td class="history-text" safe>
                      {e.text}
                    </td>
                    <td safe>{e.ip}</td>
                    <td safe>{e.target}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {when(props.newer || props.older || props.isPaged, () => (
          <nav class="pager" aria-label={t("history.pager")}>
            {when(props.isPaged, () => <PagerLink href={pageLink(props.query, null, null)} label={t("history.pager.first")} rel="first" />)}
            {when(props.newer, () => <PagerLink href={pageLink(props.query, "before", props.newer)} label={t("history.pager.newer")} rel="prev" />)}
            {when(props.older, () => <PagerLink href={pageLink(props.query, "after", props.older)} label={t("history.pager.older")} rel="next" />)}
          </nav>
        ))}
      </div>
      {(props.clearErrors ?? []).map((field) => (
        <ErrorSlot field={field} oob />
      ))}
    </>
  );
}
