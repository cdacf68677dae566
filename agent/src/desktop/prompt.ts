/**
 * @module agent/desktop/prompt
 * What a step asks of the desktop, and what came of it — the same on every OS.
 */

export type PromptKind = "kiosk_notify" | "user_notify" | "ask_user" | "defer";

export interface Prompt {
  kind: PromptKind;
  title: string;
  text: string;
  /** ask_user / defer: the first button (yes, "Install now") and the second (no, "Postpone"). */
  yes?: string;
  no?: string;
  /** Seconds before the dialog gives up (the step's timeout); notifications: how long they stay, 0 = the daemon's default. */
  timeoutSeconds: number;
}

/**
 * answered: a button was pressed (answer says which); timeout: nobody answered in time;
 * dismissed: the dialog was closed without pressing a button;
 * no_session: no interactive user session; no_tool: sessions but no dialog tool; error:
 * the tool failed; shown: a notification was handed to the desktop.
 */
export type PromptOutcome = "answered" | "timeout" | "dismissed" | "no_session" | "no_tool" | "error" | "shown";

export interface PromptResult {
  outcome: PromptOutcome;
  answer?: "yes" | "no";
  /** Who answered ("alice on x11:0"). */
  by?: string;
  /** Where it was shown. */
  sessions: string[];
  /** Lines for the deployment log (which sessions, which tool, what was chosen). */
  notes: string[];
}

export interface Desktop {
  /** Shows a notification in every session; never waits for the user. */
  notify(p: Prompt, signal: AbortSignal): Promise<PromptResult>;
  /** Asks in every session; the first answer wins and the other dialogs are closed. */
  ask(p: Prompt, signal: AbortSignal): Promise<PromptResult>;
}

/** A desktop with nobody at it (tests; agents started with MEDULLA_AGENT_DESKTOP=none). */
export const noDesktop: Desktop = {
  notify: async () => ({ outcome: "no_session", sessions: [], notes: ["no user session (desktop helper disabled)"] }),
  ask: async () => ({ outcome: "no_session", sessions: [], notes: ["no user session (desktop helper disabled)"] }),
};
