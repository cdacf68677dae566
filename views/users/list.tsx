/**
 * @module views/users/list
 * The users list (SPEC U1): search as you type, keyset paging, empty state, and per row
 * edit / ACL / delete as the viewer's rights allow. `UsersTable` is the fragment htmx swaps.
 */
import type { T } from "../../src/i18n/index.ts";
import { ListHead } from "../shell/list-head.tsx";
import { when } from "../shell/layout.tsx";
import { EmptyList, MorePager } from "../shell/list-parts.tsx";

export interface UserRowView {
  id: number;
  login: string;
  fullName: string;
  email: string;
  phone: string;
  isSuper: boolean;
}

export interface UsersTableProps {
  t: T;
  rows: UserRowView[];
  search: string;
  next: number | null;
  canEdit: boolean;
  canDelete: boolean;
  canAcl: boolean;
  selfId: number;
}

export function UsersPage(props: UsersTableProps & { notice?: string }) {
  const { t } = props;
  return (
    <section>
      <ListHead
        title={t("users.title")} path="/users" tableId="users-table" search={props.search} searchLabel={t("users.search")} notice={props.notice}
        add={props.canEdit ? { href: "/users/new", label: t("users.add") } : undefined}
      />
      <UsersTable {...props} />
    </section>
  );
}

export function UsersTable(props: UsersTableProps) {
  const { t } = props;
  if (props.rows.length === 0) {
    return <EmptyList id="users-table" search={props.search} empty={t("users.empty")} noMatch={t("users.noMatch")} />;
  }
  const q = props.search ? `&q=${encodeURIComponent(props.search)}` : "";
  return (
    <div id="users-table">
      <table class="data">
        <thead>
          <tr>
            <th scope="col" safe>{t("users.id")}</th>
            <th scope="col" safe>{t("users.name")}</th>
            <th scope="col" safe>{t("users.email")}</th>
            <th scope="col" safe>{t("users.phone")}</th>
            <th scope="col" safe>{t("users.actions")}</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((u) => (
            <tr id={`user-${u.id}`}>
              <td safe>{String(u.id)}</td>
              <td>
                <strong safe>{u.login}</strong>
                {when(u.fullName, () => <span class="muted" safe>{` ${u.fullName}`}</span>)}
                {when(u.isSuper, () => <span class="badge" safe>{t("users.super")}</span>)}
              </td>
              <td safe>{u.email}</td>
              <td safe>{u.phone}</td>
              <td class="actions">
                {when(props.canEdit, () => (
                  <a href={`/users/${u.id}/edit`} safe>
                    {t("users.editAction")}
                  </a>
                ))}
                {when(props.canAcl, () => (
                  <a href={`/users/${u.id}/acl`} title={t("acl.title", { login: u.login })} safe>
                    {t("users.aclAction")}
                  </a>
                ))}
                {when(props.canDelete && u.id !== props.selfId, () => (
                  <button
                    type="button"
                    class="link-button danger"
                    hx-delete={`/users/${u.id}`}
                    hx-confirm={t("users.confirmDelete", { login: u.login })}
                    hx-target={`#user-${u.id}`}
                    hx-swap="outerHTML"
                    safe
                  >
                    {t("users.deleteAction")}
                  </button>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <MorePager href={props.next === null ? null : `/users?after=${props.next}${q}`} target="#users-table" label={t("users.more")} />
    </div>
  );
}
