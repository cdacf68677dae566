/**
 * @module views/users/tokens
 * A user's live API tokens on its edit page, for super-administrators: when each was made,
 * until when it works, when and where it was last used, and a revoke button.
 */
import type { T } from "../../src/i18n/index.ts";
import { CsrfField } from "../shell/form.tsx";
import { when } from "../shell/layout.tsx";

export interface UserTokenView {
  id: number;
  name: string;
  created: string;
  expires: string;
  lastUsed: string;
  ip: string;
}

export function UserTokens(props: { t: T; csrf: string; userId: number; tokens: UserTokenView[] }) {
  const { t } = props;
  return (
    <section class="card" id="user-tokens">
      <h2 safe>{t("users.tokens.title")}</h2>
      {when(props.tokens.length === 0, () => (
        <p class="muted" safe>
          {t("users.tokens.empty")}
        </p>
      ))}
      {when(props.tokens.length > 0, () => (
        <table class="data">
          <thead>
            <tr>
              {(["users.tokens.name", "users.tokens.created", "users.tokens.expires", "users.tokens.lastUsed", "users.tokens.ip"] as const).map((k) => (
                <th scope="col" safe>
                  {t(k)}
                </th>
              ))}
              <th></th>
            </tr>
          </thead>
          <tbody>
            {props.tokens.map((tk) => (
              <tr>
                <td safe>{tk.name || `#${tk.id}`}</td>
                <td safe>{tk.created}</td>
                <td safe>{tk.expires}</td>
                <td safe>{tk.lastUsed}</td>
                <td safe>{tk.ip}</td>
                <td class="actions">
                  <form method="post" action={`/users/${props.userId}/tokens/${tk.id}/revoke`} class="inline-form">
                    <CsrfField token={props.csrf} />
                    <button type="submit" class="link-button danger" safe>
                      {t("users.tokens.revoke")}
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </section>
  );
}
