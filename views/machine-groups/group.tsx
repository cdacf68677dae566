/**
 * @module views/machine-groups/group
 * One group's page: its kind and description, the favourite star, the group actions the
 * reader may run, the members it may see (searchable, paged: `#mgroup-members`), and the
 * recent entries and exits.
 */
import type { T } from "../../src/i18n/index.ts";
import { Alert, when } from "../shell/layout.tsx";
import { FavouriteButton, kindLabel } from "./list.tsx";

export interface MemberView {
  id: number;
  hostname: string;
  online: boolean;
  os: string;
  entity: string;
  user: string;
  since: string;
}

export interface MembersProps {
  t: T;
  groupId: number;
  rows: MemberView[];
  search: string;
  next: string | null;
  total: number;
}

export interface ActionView {
  id: string;
  label: string;
  kind: "download" | "post";
  confirm?: string;
}

export interface GroupPageProps {
  t: T;
  group: { id: number; name: string; kind: "static" | "dynamic"; origin: "manual" | "import"; description: string; evaluatedAt: string; favourite: boolean };
  members: MembersProps;
  actions: ActionView[];
  events: { at: string; hostname: string; change: "entered" | "left" }[];
  canEdit: boolean;
  notice?: string;
}

export function GroupPage(props: GroupPageProps) {
  const { t, group: g } = props;
  return (
    <section class="stack">
      <div class="page-head">
        <h1>
          <FavouriteButton t={t} id={g.id} on={g.favourite} /> <span safe>{g.name}</span>
        </h1>
        {when(props.canEdit, () => (
          <a class="button" href={`/machine-groups/${g.id}/edit`} safe>{t("mgroups.edit")}</a>
        ))}
      </div>
      {when(props.notice, () => <Alert kind="success" text={props.notice!} />)}
      <p>
        <span class="badge" safe>{kindLabel(t, g.kind, g.origin)}</span> <span safe>{g.description}</span>
      </p>
      {when(g.kind === "dynamic" && g.evaluatedAt, () => <p class="hint" safe>{t("mgroups.evaluatedAt", { at: g.evaluatedAt })}</p>)}
      {when(props.actions.length, () => (
        <div class="card">
          <h2 safe>{t("mgroups.actionsTitle")}</h2>
          <p class="hint" safe>{t("mgroups.actionsHint", { count: props.members.total })}</p>
          <div class="toolbar" id="mgroup-actions">
            {props.actions.map((a) =>
              a.kind === "download" ? (
                <a class="button" href={`/machine-groups/${g.id}/actions/${a.id}`} download="" safe>{a.label}</a>
              ) : (
                <button type="button" class="button" hx-post={`/machine-groups/${g.id}/actions/${a.id}`} hx-confirm={a.confirm} hx-target="#mgroup-action-result" hx-swap="innerHTML" safe>
                  {a.label}
                </button>
              ),
            )}
          </div>
          <div id="mgroup-action-result" aria-live="polite"></div>
        </div>
      ))}
      <div class="card">
        <h2 safe>{t("mgroups.membersTitle")}</h2>
        <div class="toolbar">
          <label for="mgroup-members-search" class="visually-hidden" safe>{t("mgroups.membersSearch")}</label>
          <input id="mgroup-members-search" type="search" name="q" value={props.members.search} placeholder={t("mgroups.membersSearch")}
            hx-get={`/machine-groups/${g.id}`} hx-trigger="input changed delay:300ms, search" hx-target="#mgroup-members" hx-swap="outerHTML" />
        </div>
        <Members {...props.members} />
      </div>
      <div class="card">
        <h2 safe>{t("mgroups.eventsTitle")}</h2>
        {props.events.length === 0 ? (
          <p class="empty-state" safe>{t("mgroups.eventsEmpty")}</p>
        ) : (
          <ul class="events">
            {props.events.map((e) => (
              <li>
                <span safe>{e.at}</span> — <span safe>{e.hostname}</span> <span class={`badge ${e.change}`} safe>{t(e.change === "entered" ? "mgroups.event.entered" : "mgroups.event.left")}</span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}

export function Members(props: MembersProps) {
  const { t } = props;
  if (props.rows.length === 0) return <div id="mgroup-members" class="empty-state" safe>{t("mgroups.membersEmpty")}</div>;
  const q = props.search ? `&q=${encodeURIComponent(props.search)}` : "";
  return (
    <div id="mgroup-members">
      <p class="hint" safe>{t("mgroups.membersCount", { count: props.total })}</p>
      <table class="data">
        <thead>
          <tr>
            <th scope="col" safe>{t("mgroups.col.machine")}</th>
            <th scope="col" safe>{t("mgroups.col.state")}</th>
            <th scope="col" safe>{t("mgroups.col.os")}</th>
            <th scope="col" safe>{t("mgroups.col.entity")}</th>
            <th scope="col" safe>{t("mgroups.col.user")}</th>
            <th scope="col" safe>{t("mgroups.col.since")}</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((m) => (
            <tr>
              <td><a href={`/computers/${m.id}`} safe>{m.hostname}</a></td>
              <td><span class={m.online ? "badge online" : "badge offline"} safe>{m.online ? t("mgroups.online") : t("mgroups.offline")}</span></td>
              <td safe>{m.os}</td>
              <td safe>{m.entity}</td>
              <td safe>{m.user}</td>
              <td safe>{m.since}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {when(props.next !== null, () => (
        <nav class="pager">
          <a href={`/machine-groups/${props.groupId}?after=${encodeURIComponent(props.next!)}${q}`} hx-get={`/machine-groups/${props.groupId}?after=${encodeURIComponent(props.next!)}${q}`} hx-target="#mgroup-members" hx-swap="outerHTML" safe>
            {t("mgroups.more")}
          </a>
        </nav>
      ))}
    </div>
  );
}
