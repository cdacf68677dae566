/**
 * @module views/machine-groups/list
 * "All groups" (SPEC C4): name, type, machines the reader can see, creator, favourite
 * star, view / edit / delete; the search reloads `#mgroups-table`.
 */
import type { T } from "../../src/i18n/index.ts";
import { ListHead } from "../shell/list-head.tsx";
import { when } from "../shell/layout.tsx";
import { EmptyList, MorePager } from "../shell/list-parts.tsx";

export interface GroupListRow {
  id: number;
  name: string;
  kind: "static" | "dynamic";
  origin: "manual" | "import";
  members: number;
  creator: string;
  favourite: boolean;
}

export interface GroupsTableProps {
  t: T;
  rows: GroupListRow[];
  search: string;
  next: string | null;
  canEdit: boolean;
  canDelete: boolean;
}

export function MachineGroupsPage(props: GroupsTableProps & { notice?: string }) {
  const { t } = props;
  return (
    <section>
      <ListHead title={t("mgroups.title")} path="/machine-groups" tableId="mgroups-table" search={props.search} searchLabel={t("mgroups.search")} notice={props.notice} />
      {when(props.canEdit, () => (
        <div class="toolbar">
          <a class="button primary" href="/machine-groups/new/dynamic" safe>{t("mgroups.addDynamic")}</a>
          <a class="button" href="/machine-groups/new/static" safe>{t("mgroups.addStatic")}</a>
          <a class="button" href="/machine-groups/import" safe>{t("mgroups.addImport")}</a>
        </div>
      ))}
      <MachineGroupsTable {...props} />
    </section>
  );
}

export const kindLabel = (t: T, kind: "static" | "dynamic", origin: "manual" | "import") =>
  kind === "dynamic" ? t("mgroups.kind.dynamic") : origin === "import" ? t("mgroups.kind.import") : t("mgroups.kind.static");

export function MachineGroupsTable(props: GroupsTableProps) {
  const { t } = props;
  if (props.rows.length === 0) {
    return <EmptyList id="mgroups-table" search={props.search} empty={t("mgroups.empty")} noMatch={t("mgroups.noMatch")} />;
  }
  const q = props.search ? `&q=${encodeURIComponent(props.search)}` : "";
  return (
    <div id="mgroups-table">
      <table class="data">
        <thead>
          <tr>
            <th scope="col" safe>{t("mgroups.favourite")}</th>
            <th scope="col" safe>{t("mgroups.col.name")}</th>
            <th scope="col" safe>{t("mgroups.col.kind")}</th>
            <th scope="col" safe>{t("mgroups.col.members")}</th>
            <th scope="col" safe>{t("mgroups.col.creator")}</th>
            <th scope="col" safe>{t("mgroups.col.actions")}</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((g) => (
            <tr id={`mgroup-${g.id}`}>
              <td>
                <FavouriteButton t={t} id={g.id} on={g.favourite} />
              </td>
              <td>
                <a href={`/machine-groups/${g.id}`} safe>{g.name}</a>
              </td>
              <td safe>{kindLabel(t, g.kind, g.origin)}</td>
              <td safe>{String(g.members)}</td>
              <td safe>{g.creator}</td>
              <td class="actions">
                <a href={`/machine-groups/${g.id}`} safe>{t("mgroups.view")}</a>
                {when(props.canEdit, () => (
                  <a href={`/machine-groups/${g.id}/edit`} safe>{t("mgroups.edit")}</a>
                ))}
                {when(props.canDelete, () => (
                  <button type="button" class="link-button danger" hx-delete={`/machine-groups/${g.id}`} hx-confirm={t("mgroups.confirmDelete")} hx-target={`#mgroup-${g.id}`} hx-swap="outerHTML" safe>
                    {t("mgroups.delete")}
                  </button>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <MorePager href={props.next === null ? null : `/machine-groups?after=${encodeURIComponent(props.next!)}${q}`} target="#mgroups-table" label={t("mgroups.more")} />
    </div>
  );
}

/** The star that adds or removes a favourite; replaces itself. */
export function FavouriteButton(props: { t: T; id: number; on: boolean }) {
  const { t } = props;
  const label = props.on ? t("mgroups.removeFavourite") : t("mgroups.addFavourite");
  return (
    <button
      type="button" id={`fav-${props.id}`} class={props.on ? "star on" : "star"} aria-pressed={props.on ? "true" : "false"} title={label} aria-label={label}
      hx-post={`/machine-groups/${props.id}/favourite`} hx-vals={JSON.stringify({ on: props.on ? "0" : "1" })} hx-target="this" hx-swap="outerHTML"
    >
      {props.on ? "★" : "☆"}
    </button>
  );
}
