/**
 * @module views/inventory/software-search
 * Software across the fleet ("which machines have 7-Zip < 23"): the criteria form, then
 * the results fragment (`#software-results`) either grouped by software and version with
 * the number of machines (each group opens onto its machines, loaded when opened into
 * `#group-N`), or flat, one row per machine and matching software. Both page by keyset
 * and export as CSV with the same criteria.
 */
import type { T } from "../../src/i18n/index.ts";
import type { SoftwareGroup, SoftwareHit } from "../../src/features/inventory/read.ts";
import { when } from "../shell/layout.tsx";
import { orDash } from "./format.ts";

export const OP_CODES = { lt: "<", le: "<=", eq: "=", ge: ">=", gt: ">" } as const;
export type OpCode = keyof typeof OP_CODES;

export interface SoftwareSearchQuery {
  name: string;
  match: "contains" | "equals";
  op: OpCode | "";
  version: string;
  publisher: string;
  view: "groups" | "machines";
}

export function searchQs(q: SoftwareSearchQuery, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams({ name: q.name, match: q.match, op: q.op, version: q.version, publisher: q.publisher, view: q.view, ...extra });
  for (const [k, v] of [...p]) if (v === "" || (k === "match" && v === "contains") || (k === "view" && v === "groups")) p.delete(k);
  const s = p.toString();
  return s ? `?${s}` : "";
}

export interface SoftwareResultsProps {
  t: T;
  query: SoftwareSearchQuery;
  isSearchable: boolean;
  groups: SoftwareGroup[];
  hits: SoftwareHit[];
  next: string | null;
  isFirst: boolean;
}

export function SoftwareSearchPage(props: SoftwareResultsProps) {
  const { t, query: q } = props;
  return (
    <section class="stack">
      <div class="page-head">
        <h1 safe>{t("sws.title")}</h1>
      </div>
      <p class="muted" safe>
        {t("sws.intro")}
      </p>
      <form
        id="software-search"
        class="card software-search-form"
        method="get"
        action="/inventory/software"
        hx-get="/inventory/software"
        hx-target="#software-results"
        hx-swap="outerHTML"
        hx-push-url="true"
        hx-trigger="submit, change from:#sws-match, change from:#sws-op, change from:#sws-view, input changed delay:500ms from:#sws-name"
      >
        <div class="sws-grid">
          <div>
            <label for="sws-name" safe>
              {t("sws.name")}
            </label>
            <input id="sws-name" type="search" name="name" value={q.name} maxlength="200" autocomplete="off" />
          </div>
          <div>
            <label for="sws-match" safe>
              {t("sws.match")}
            </label>
            <select id="sws-match" name="match">
              {(["contains", "equals"] as const).map((m) => (
                <option value={m} selected={q.match === m} safe>
                  {t(`sws.match.${m}`)}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for="sws-op" safe>
              {t("sws.op")}
            </label>
            <select id="sws-op" name="op">
              <option value="" safe>
                {t("sws.op.any")}
              </option>
              {(Object.keys(OP_CODES) as OpCode[]).map((op) => (
                <option value={op} selected={q.op === op} safe>
                  {`${t(`sws.op.${op}`)} (${OP_CODES[op]})`}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for="sws-version" safe>
              {t("sws.version")}
            </label>
            <input id="sws-version" name="version" value={q.version} maxlength="100" autocomplete="off" />
          </div>
          <div>
            <label for="sws-publisher" safe>
              {t("sws.publisher")}
            </label>
            <input id="sws-publisher" name="publisher" value={q.publisher} maxlength="200" autocomplete="off" />
          </div>
        </div>
        <div class="form-actions">
          <fieldset class="segmented" id="sws-view">
            <legend class="visually-hidden" safe>
              {t("sws.view")}
            </legend>
            {(["groups", "machines"] as const).map((v) => (
              <label>
                <input type="radio" name="view" value={v} checked={q.view === v} />
                <span safe>{t(`sws.view.${v}`)}</span>
              </label>
            ))}
          </fieldset>
          <button type="submit" class="primary" safe>
            {t("sws.submit")}
          </button>
        </div>
      </form>
      <SoftwareResults {...props} />
    </section>
  );
}

export function SoftwareResults(props: SoftwareResultsProps) {
  const { t, query: q } = props;
  const link = (href: string, label: string) => (
    <a href={href} hx-get={href} hx-target="#software-results" hx-swap="outerHTML" hx-push-url="true" safe>
      {label}
    </a>
  );
  if (!props.isSearchable) {
    return (
      <div id="software-results">
        <p class="empty-state" safe>
          {t("sws.hint")}
        </p>
      </div>
    );
  }
  const count = q.view === "groups" ? props.groups.length : props.hits.length;
  return (
    <div id="software-results">
      <div class="toolbar list-summary">
        <span class="muted small" id="software-results-count" safe>
          {q.view === "groups" ? t("sws.groups", { count }) : t("sws.hits", { count })}
        </span>
        {when(count > 0, () => (
          <a class="button" href={`/inventory/software/export.csv${searchQs(q)}`} download="" safe>
            {t("sws.export")}
          </a>
        ))}
      </div>
      {when(count === 0, () => (
        <p class="empty-state" safe>
          {t("sws.noMatch")}
        </p>
      ))}
      {when(count > 0 && q.view === "groups", () => <GroupsTable t={t} query={q} groups={props.groups} />)}
      {when(count > 0 && q.view === "machines", () => <HitsTable t={t} hits={props.hits} />)}
      <nav class="pager">
        {when(!props.isFirst, () => link(`/inventory/software${searchQs(q)}`, t("inv.first")))}
        {when(props.next !== null, () => link(`/inventory/software${searchQs(q, { after: props.next! })}`, t("inv.more")))}
      </nav>
    </div>
  );
}

function GroupsTable(props: { t: T; query: SoftwareSearchQuery; groups: SoftwareGroup[] }) {
  const { t } = props;
  return (
    <div class="table-scroll">
      <table class="data software-groups">
        <thead>
          <tr>
            {[t("sws.col.software"), t("sws.col.version"), t("sws.col.publisher"), t("sws.col.machines")].map((h) => (
              <th scope="col" safe>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.groups.map((g, i) => {
            const href = `/inventory/software/group${searchQs(props.query, { gname: g.name, gversion: g.version })}`;
            return (
              <tr>
                <td safe>{g.name}</td>
                <td class="mono" safe>
                  {orDash(g.version)}
                </td>
                <td safe>{orDash(g.publisher)}</td>
                <td>
                  <details class="group-machines" hx-get={href} hx-trigger="toggle once" hx-target={`#group-${i}`} hx-swap="innerHTML">
                    <summary safe>{String(g.machines)}</summary>
                    <div id={`group-${i}`} class="group-list" aria-live="polite"></div>
                  </details>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function HitsTable(props: { t: T; hits: SoftwareHit[] }) {
  const { t } = props;
  return (
    <div class="table-scroll">
      <table class="data software-hits">
        <thead>
          <tr>
            {[t("sws.col.machine"), t("sws.col.entity"), t("sws.col.software"), t("sws.col.version"), t("sws.col.publisher")].map((h) => (
              <th scope="col" safe>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.hits.map((h) => (
            <tr>
              <td>
                <a href={`/computers/${h.machineId}/inventory?tab=software&q=${encodeURIComponent(h.name)}`} safe>
                  {h.hostname}
                </a>
              </td>
              <td safe>{h.entity}</td>
              <td safe>{h.name}</td>
              <td class="mono" safe>
                {orDash(h.version)}
              </td>
              <td safe>{orDash(h.publisher)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The machines of one group, loaded when the group opens. */
export function GroupMachines(props: { t: T; hits: SoftwareHit[]; isCapped: boolean }) {
  return (
    <>
      <ul class="machine-list">
        {props.hits.map((h) => (
          <li>
            <a href={`/computers/${h.machineId}/inventory?tab=software&q=${encodeURIComponent(h.name)}`} safe>
              {h.hostname}
            </a>
            <span class="muted small" safe>
              {` ${h.entity}`}
            </span>
          </li>
        ))}
      </ul>
      {when(props.isCapped, () => (
        <p class="muted small" safe>
          {props.t("sws.groupCapped", { count: props.hits.length })}
        </p>
      ))}
    </>
  );
}
