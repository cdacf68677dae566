/**
 * @module agent/deploy/user-steps
 * The steps that involve the person at the machine — kiosk notification, user
 * notification, question, deferral — run through the desktop helper (agent/src/desktop).
 * Each returns a StepResult whose `interaction` says what was shown or asked and what came
 * of it (answered / timed out → default / no user session → default …), which the runner
 * sends to the server with the step's event.
 *
 *  - kiosk_notify: the end-user kiosk application does not exist yet, so the message is a
 *    desktop notification; the kind stays `kiosk_notify` in the protocol and the logs (and
 *    the notification's category is `x-medulla.kiosk`) so the kiosk can take it over.
 *  - user_notify: a desktop notification. A notification never fails the deployment.
 *  - ask_user: yes → success (code 0), no → error (code 1); on timeout, with nobody
 *    logged in, or when the dialog cannot be shown, the step's default answer applies.
 *  - defer: "Install now" / "Postpone (k left)". Install now, a timeout, or nobody logged
 *    in: the step succeeds and the package goes on. Postpone: the result carries `defer`
 *    and the runner ends the run as `deferred`; the server (which keeps the count) runs it
 *    again later. When the server says no postponement is left (limit reached, deadline
 *    near) the dialog is not shown: `atLimit` decides (notify and go on, go on, or error).
 */
import type { Step } from "../../../src/features/packages/descriptor.ts";
import type { Desktop, Prompt, PromptResult } from "../desktop/index.ts";

export interface Interaction {
  kind: "kiosk_notify" | "user_notify" | "ask_user" | "defer";
  asked: string;
  outcome: PromptResult["outcome"] | "limit" | "deadline";
  answer?: "yes" | "no";
  by?: string;
  /** What the step did with it ("default yes", "postponed", "installing now" …). */
  applied?: string;
}

export interface UserStepResult {
  ok: boolean;
  code?: number;
  output?: string;
  notes: string[];
  interaction: Interaction;
  /** defer: the user postponed. */
  defer?: { delayMinutes: number; maxDeferrals: number };
}

export interface DeferralGrant {
  used: number;
  allowed: boolean;
  why?: string;
}

type UserStep = Extract<Step, { action: "kiosk_notify" | "user_notify" | "ask_user" | "defer" }>;

/** Default button labels in the system's language (French or English). */
export function defaultLabels(lang = process.env.LANG ?? ""): { yes: string; no: string; install: string; postpone: string; title: string; installing: string } {
  return /^fr/i.test(lang)
    ? { yes: "Oui", no: "Non", install: "Installer maintenant", postpone: "Reporter", title: "Medulla", installing: "L'installation commence maintenant." }
    : { yes: "Yes", no: "No", install: "Install now", postpone: "Postpone", title: "Medulla", installing: "The installation starts now." };
}

const quote = (s: string) => JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);

function why(r: PromptResult): string {
  switch (r.outcome) {
    case "no_session":
      return "no user session";
    case "timeout":
      return "timed out";
    case "dismissed":
      return "closed without an answer";
    case "no_tool":
      return "no dialog tool";
    default:
      return "the dialog failed";
  }
}

export async function runUserStep(s: UserStep, o: { desktop: Desktop; signal: AbortSignal; deferral?: DeferralGrant }): Promise<UserStepResult> {
  const L = defaultLabels();
  switch (s.action) {
    case "kiosk_notify":
    case "user_notify": {
      const title = s.action === "user_notify" && s.title ? s.title : L.title;
      const r = await o.desktop.notify({ kind: s.action, title, text: s.message, timeoutSeconds: s.action === "user_notify" ? (s.timeout ?? 0) : 0 }, o.signal);
      const what = s.action === "kiosk_notify" ? "kiosk notification (no kiosk application yet: shown as a desktop notification)" : "user notification";
      const end = r.outcome === "shown" ? `shown to ${r.sessions.join(", ")}` : `not shown: ${why(r)}`;
      return { ok: true, notes: [`${what} ${quote(s.message)}: ${end}`, ...r.notes], interaction: { kind: s.action, asked: s.message, outcome: r.outcome, applied: r.outcome === "shown" ? "shown" : "not shown" } };
    }
    case "ask_user": {
      const r = await o.desktop.ask({ kind: "ask_user", title: s.title || L.title, text: s.question, yes: s.yesLabel || L.yes, no: s.noLabel || L.no, timeoutSeconds: s.timeout }, o.signal);
      const answered = r.outcome === "answered" && r.answer;
      const answer = answered ? r.answer! : s.default;
      const line = answered ? `question ${quote(s.question)}: the user answered "${answer}" (${r.by})` : `question ${quote(s.question)}: ${why(r)} → default "${answer}"`;
      const yes = answer === "yes";
      return {
        ok: yes, code: yes ? 0 : 1, output: `answer: ${answer}${answered ? "" : ` (default: ${why(r)})`}`, notes: [line, ...r.notes],
        interaction: { kind: "ask_user", asked: s.question, outcome: r.outcome, ...(answered ? { answer: r.answer, by: r.by } : {}), applied: answered ? `answer ${answer}` : `default ${answer}` },
      };
    }
    case "defer": {
      const used = o.deferral?.used ?? 0;
      const left = Math.max(0, s.maxDeferrals - used);
      if (o.deferral?.allowed === false || left === 0) {
        const deadline = o.deferral?.allowed === false && left > 0;
        const reason = deadline ? o.deferral?.why || "the deadline is near" : `the ${s.maxDeferrals} postponement(s) allowed are used`;
        const atLimit = s.atLimit ?? "notify";
        const notes = [`deferral not offered: ${reason}; ${atLimit === "error" ? "the step ends in error" : "running without asking"}`];
        if (atLimit === "notify") {
          const r = await o.desktop.notify({ kind: "user_notify", title: s.title || L.title, text: `${s.message}\n\n${L.installing}`, timeoutSeconds: 30 }, o.signal);
          notes.push(r.outcome === "shown" ? `told ${r.sessions.join(", ")} that it installs now` : `could not tell the user: ${why(r)}`, ...r.notes);
        }
        return { ok: atLimit !== "error", code: atLimit === "error" ? 2 : 0, notes, interaction: { kind: "defer", asked: s.message, outcome: deadline ? "deadline" : "limit", applied: atLimit === "error" ? "error" : "installing now" } };
      }
      const r = await o.desktop.ask({ kind: "defer", title: s.title || L.title, text: s.message, yes: s.installLabel || L.install, no: `${s.postponeLabel || L.postpone} (${left})`, timeoutSeconds: s.timeout }, o.signal);
      if (r.outcome === "answered" && r.answer === "no") {
        return {
          ok: true, code: 0, notes: [`deferral ${quote(s.message)}: ${r.by} postponed (${used + 1} of ${s.maxDeferrals}) by ${s.delayMinutes} min`, ...r.notes],
          interaction: { kind: "defer", asked: s.message, outcome: "answered", answer: "no", by: r.by, applied: `postponed ${used + 1} of ${s.maxDeferrals}` },
          defer: { delayMinutes: s.delayMinutes, maxDeferrals: s.maxDeferrals },
        };
      }
      const answered = r.outcome === "answered";
      return {
        ok: true, code: 0, notes: [answered ? `deferral ${quote(s.message)}: ${r.by} chose to install now` : `deferral ${quote(s.message)}: ${why(r)} → installing now`, ...r.notes],
        interaction: { kind: "defer", asked: s.message, outcome: r.outcome, ...(answered ? { answer: "yes" as const, by: r.by } : {}), applied: "installing now" },
      };
    }
  }
}
