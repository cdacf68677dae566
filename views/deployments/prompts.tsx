/**
 * @module views/deployments/prompts
 * What a machine's users were shown or asked during a deployment (notifications, questions,
 * deferral dialogs) and what came of it — answered by whom, timed out, nobody logged in —
 * shown above the machine's log on the follow page; and a machine's postponement state.
 */
import type { MessageKey, T } from "../../src/i18n/index.ts";
import { when } from "../shell/layout.tsx";

export interface PromptView {
  at: string;
  kind: "kiosk_notify" | "user_notify" | "ask_user" | "defer";
  asked: string;
  outcome: string;
  answer: "yes" | "no" | null;
  by: string;
  applied: string;
}

export interface DeferralView {
  used: number;
  max: number;
  /** When the machine's run resumes, while it waits for it. */
  until: string | null;
}

export function promptAnswer(t: T, p: Pick<PromptView, "kind" | "answer">): string {
  if (!p.answer) return "";
  return t(`deploy.prompt.answer.${p.kind === "defer" ? "defer" : "ask"}.${p.answer}` as MessageKey);
}

export function PromptList(props: { t: T; prompts: PromptView[]; deferral: DeferralView | null }) {
  const { t } = props;
  if (!props.prompts.length && !props.deferral) return "";
  const f = props.deferral;
  return (
    <div class="deploy-prompts">
      {when(f, () => (
        <p class="deploy-deferral" safe>
          {f!.until ? t("deploy.deferral.waiting", { until: f!.until, used: f!.used, max: f!.max }) : t("deploy.deferral.count", { used: f!.used, max: f!.max })}
        </p>
      ))}
      {when(props.prompts.length > 0, () => (
        <table class="data compact">
          <caption safe>{t("deploy.prompts.title")}</caption>
          <thead>
            <tr>
              {(["deploy.prompts.col.at", "deploy.prompts.col.kind", "deploy.prompts.col.asked", "deploy.prompts.col.outcome", "deploy.prompts.col.by"] as const).map((k) => (
                <th scope="col" safe>
                  {t(k)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.prompts.map((p) => (
              <tr data-prompt-kind={p.kind} data-prompt-outcome={p.outcome}>
                <td class="mono small" safe>
                  {p.at}
                </td>
                <td safe>{t(`deploy.prompt.kind.${p.kind}` as MessageKey)}</td>
                <td>
                  <pre safe>{p.asked}</pre>
                </td>
                <td>
                  <span safe>{t(`deploy.prompt.outcome.${p.outcome}` as MessageKey)}</span>
                  {when(p.answer, () => <strong safe>{` ${promptAnswer(t, p)}`}</strong>)}
                  {when(p.applied, () => <span class="muted small" safe>{` (${p.applied})`}</span>)}
                </td>
                <td safe>{p.by || "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </div>
  );
}
