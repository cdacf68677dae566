/**
 * @module views/users/acl
 * The ACL editor (SPEC U3), for a user or a group: every permission key of the registry,
 * grouped by category, with what the subject's groups already give it. Keys the editor
 * does not hold itself are shown but cannot be ticked.
 */
import type { T } from "../../src/i18n/index.ts";
import { CsrfField } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";

export interface AclCategory {
  label: string;
  keys: { key: string; label: string; granted: boolean; via: string[]; grantable: boolean }[];
}

export function AclEditor(props: { t: T; csrf: string; title: string; action: string; categories: AclCategory[]; isSuper: boolean; notice?: string; error?: string; back: string }) {
  const { t } = props;
  return (
    <form class="card form wide acl" method="post" action={props.action}>
      <h1 safe>{props.title}</h1>
      <p class="muted" safe>
        {t("acl.intro")}
      </p>
      {when(props.isSuper, () => <Alert kind="info" text={t("acl.superNote")} />)}
      {when(props.notice, () => <Alert kind="success" text={props.notice!} />)}
      {when(props.error, () => <Alert kind="error" text={props.error!} />)}
      <CsrfField token={props.csrf} />
      {props.categories.map((c) => (
        <fieldset>
          <legend safe>{c.label}</legend>
          <ul class="acl-keys">
            {c.keys.map((k) => (
              <li>
                <label>
                  <input type="checkbox" name="keys" value={k.key} checked={k.granted} disabled={!k.grantable} />
                  <span safe>{k.label}</span> <code safe>{k.key}</code>
                </label>
                {when(k.via.length, () => (
                  <span class="badge" safe>
                    {k.via.map((name) => t("acl.viaGroup", { name })).join(", ")}
                  </span>
                ))}
              </li>
            ))}
          </ul>
        </fieldset>
      ))}
      <div class="form-actions">
        <button type="submit" class="primary" safe>
          {t("acl.save")}
        </button>
        <a href={props.back} safe>
          {t("users.cancel")}
        </a>
      </div>
    </form>
  );
}
