/**
 * @module views/groups/groups
 * User groups (SPEC U4): the list (name, comment, members, view / delete), the add/edit
 * form with the naming rule spelled out, and a group's members.
 */
import type { FieldErrors } from "../../src/errors.ts";
import type { T } from "../../src/i18n/index.ts";
import { CsrfField, Select, TextField, type Option } from "../shell/form.tsx";
import { ListHead } from "../shell/list-head.tsx";
import { Alert, when } from "../shell/layout.tsx";
import { EmptyList, MorePager } from "../shell/list-parts.tsx";

export interface GroupRowView {
  id: number;
  name: string;
  description: string;
  members: number;
}

export interface GroupsTableProps {
  t: T;
  rows: GroupRowView[];
  search: string;
  next: string | null;
  canEdit: boolean;
  canDelete: boolean;
  canAcl: boolean;
}

export function GroupsPage(props: GroupsTableProps & { notice?: string }) {
  const { t } = props;
  return (
    <section>
      <ListHead
        title={t("groups.title")} path="/groups" tableId="groups-table" search={props.search} searchLabel={t("groups.search")} notice={props.notice}
        add={props.canEdit ? { href: "/groups/new", label: t("groups.add") } : undefined}
      />
      <GroupsTable {...props} />
    </section>
  );
}

export function GroupsTable(props: GroupsTableProps) {
  const { t } = props;
  if (props.rows.length === 0) {
    return <EmptyList id="groups-table" search={props.search} empty={t("groups.empty")} noMatch={t("groups.noMatch")} />;
  }
  const q = props.search ? `&q=${encodeURIComponent(props.search)}` : "";
  return (
    <div id="groups-table">
      <table class="data">
        <thead>
          <tr>
            <th scope="col" safe>{t("groups.name")}</th>
            <th scope="col" safe>{t("groups.comment")}</th>
            <th scope="col" safe>{t("groups.memberCount")}</th>
            <th scope="col" safe>{t("groups.actions")}</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((g) => (
            <tr id={`group-${g.id}`}>
              <td>
                <a href={`/groups/${g.id}`} safe>
                  {g.name}
                </a>
              </td>
              <td safe>{g.description}</td>
              <td safe>{String(g.members)}</td>
              <td class="actions">
                <a href={`/groups/${g.id}`} safe>
                  {props.canEdit ? t("groups.edit") : t("groups.view")}
                </a>
                {when(props.canAcl, () => (
                  <a href={`/groups/${g.id}/acl`} safe>
                    {t("groups.rights")}
                  </a>
                ))}
                {when(props.canDelete, () => (
                  <button type="button" class="link-button danger" hx-delete={`/groups/${g.id}`} hx-confirm={t("groups.confirmDelete")} hx-target={`#group-${g.id}`} hx-swap="outerHTML" safe>
                    {t("groups.delete")}
                  </button>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <MorePager href={props.next === null ? null : `/groups?after=${encodeURIComponent(props.next!)}${q}`} target="#groups-table" label={t("users.more")} />
    </div>
  );
}

export interface GroupFormProps {
  t: T;
  csrf: string;
  id: number | null;
  values: { name: string; description: string; entityId: string };
  entities: Option[];
  errors?: FieldErrors;
  readonly?: boolean;
}

export function GroupForm(props: GroupFormProps) {
  const { t, values: v, errors } = props;
  return (
    <form class="card form" method="post" action={props.id ? `/groups/${props.id}` : "/groups"}>
      <h2 safe>{props.id ? t("groups.edit") : t("groups.add")}</h2>
      {when(errors, () => <Alert kind="error" text={t("error.invalid")} />)}
      <CsrfField token={props.csrf} />
      <TextField t={t} name="name" label={t("groups.name")} value={v.name} hint={t("groups.nameRule")} required maxlength={64} pattern="[a-z][a-z0-9]*" errors={errors} />
      <TextField t={t} name="description" label={t("groups.description")} value={v.description} maxlength={500} errors={errors} />
      <Select t={t} name="entityId" label={t("groups.entity")} options={props.entities} selected={[v.entityId]} errors={errors} />
      {when(!props.readonly, () => (
        <div class="form-actions">
          <button type="submit" class="primary" safe>
            {t("groups.save")}
          </button>
          <a href="/groups" safe>
            {t("users.cancel")}
          </a>
        </div>
      ))}
    </form>
  );
}

export function GroupMembers(props: { t: T; groupId: number; members: { id: number; login: string; name: string; isPrimary: boolean }[]; candidates: Option[]; canEdit: boolean; error?: string }) {
  const { t } = props;
  return (
    <section id="group-members" class="card">
      <h2 safe>{t("groups.members")}</h2>
      {when(props.error, () => <Alert kind="error" text={props.error!} />)}
      {when(props.members.length === 0, () => (
        <p class="muted" safe>
          {t("groups.noMembers")}
        </p>
      ))}
      <ul class="members">
        {props.members.map((m) => (
          <li>
            <strong safe>{m.login}</strong> <span class="muted" safe>{m.name}</span>
            {when(m.isPrimary, () => <span class="badge" safe>{t("groups.primary")}</span>)}
            {when(props.canEdit, () => (
              <button type="button" class="link-button danger" hx-delete={`/groups/${props.groupId}/members/${m.id}`} hx-target="#group-members" hx-swap="outerHTML" safe>
                {t("groups.removeMember")}
              </button>
            ))}
          </li>
        ))}
      </ul>
      {when(props.canEdit && props.candidates.length > 0, () => (
        <form class="inline-form" hx-post={`/groups/${props.groupId}/members`} hx-target="#group-members" hx-swap="outerHTML">
          <label for="member-user" safe>
            {t("groups.addMember")}
          </label>
          <select id="member-user" name="userId">
            {props.candidates.map((c) => (
              <option value={c.value} safe>
                {c.label}
              </option>
            ))}
          </select>
          <button type="submit" safe>
            {t("groups.addMember")}
          </button>
        </form>
      ))}
    </section>
  );
}
