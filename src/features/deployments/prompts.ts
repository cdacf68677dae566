/**
 * @module deployments/prompts
 * The server's side of the user-facing steps (agent/src/deploy/user-steps.ts): what was
 * shown or asked to each machine's users and what came of it (table `deployment_prompts`),
 * and postponements (table `deployment_deferrals`, migration 0011). The server is the
 * source of truth for the count: every `deploy` tells the agent how many postponements
 * were used and whether one more is allowed; a `deferred` event is checked against the
 * frozen plan (it must come from a defer step) and against the count, so an agent can
 * never postpone more than the package allows nor past the deadline.
 *
 * A postponed target goes back to `queued` with a new run id and a `resume_at`; the engine
 * holds it until then (a durable scheduler job at `resume_at`, and the sweep, wake it up).
 * The last postponement is shortened so that the run resumes `graceMs` before the deadline
 * and then runs without asking ("capped").
 */
import type { Database } from "bun:sqlite";
import type { ActionData } from "../../protocol/actions.ts";
import type { DeploymentRow, TargetRow } from "./repo.ts";

export interface DeferralRow {
  target_id: number;
  deployment_id: number;
  used: number;
  max_deferrals: number;
  delay_minutes: number;
  resume_at: number | null;
  deferred_at: number | null;
  capped: number;
  updated_at: number;
}

export interface PromptRow {
  id: number;
  deployment_id: number;
  target_id: number;
  run_id: string;
  at: number;
  step: number;
  kind: "kiosk_notify" | "user_notify" | "ask_user" | "defer";
  asked: string;
  outcome: "answered" | "timeout" | "dismissed" | "no_session" | "no_tool" | "error" | "shown" | "limit" | "deadline";
  answer: "yes" | "no" | null;
  by_whom: string;
  applied: string;
}

export type Grant = NonNullable<ActionData<"deploy">["deferral"]>;

/** Time kept before the deadline for the run that follows the last postponement. */
export function graceMs(d: Pick<DeploymentRow, "start_at" | "deadline_at">): number {
  return Math.min(30 * 60_000, Math.max(0, Math.floor((d.deadline_at - d.start_at) / 4)));
}

export function promptsRepo(db: Database) {
  const q = {
    deferral: db.query<DeferralRow, [number]>(`SELECT * FROM deployment_deferrals WHERE target_id = ?`),
    upsert: db.query<null, Record<string, number | null>>(
      `INSERT INTO deployment_deferrals (target_id, deployment_id, used, max_deferrals, delay_minutes, resume_at, deferred_at, capped, updated_at)
       VALUES ($target, $deployment, $used, $max, $delay, $resume, $at, $capped, $at)
       ON CONFLICT (target_id) DO UPDATE SET used = $used, max_deferrals = $max, delay_minutes = $delay, resume_at = $resume, deferred_at = $at, capped = $capped, updated_at = $at`,
    ),
    insertPrompt: db.query<null, Record<string, string | number | null>>(
      `INSERT INTO deployment_prompts (deployment_id, target_id, run_id, at, step, kind, asked, outcome, answer, by_whom, applied)
       VALUES ($deployment, $target, $run, $at, $step, $kind, $asked, $outcome, $answer, $by, $applied)`,
    ),
    prompts: db.query<PromptRow, [number, number]>(`SELECT * FROM deployment_prompts WHERE target_id = ? ORDER BY id LIMIT ?`),
    held: db.query<{ n: number }, [number, number]>(
      `SELECT count(*) AS n FROM deployment_deferrals f JOIN deployment_targets t ON t.id = f.target_id WHERE f.deployment_id = ? AND f.resume_at > ? AND t.state = 'queued'`,
    ),
  };
  return {
    deferral: (targetId: number) => q.deferral.get(targetId) ?? null,
    saveDeferral(r: { targetId: number; deploymentId: number; used: number; max: number; delay: number; resumeAt: number | null; capped: boolean }, at: number): void {
      q.upsert.run({ target: r.targetId, deployment: r.deploymentId, used: r.used, max: r.max, delay: r.delay, resume: r.resumeAt, at, capped: r.capped ? 1 : 0 });
    },
    addPrompt(p: { deploymentId: number; targetId: number; runId: string; at: number; i: NonNullable<ActionData<"deployevent">["interaction"]> }): void {
      q.insertPrompt.run({
        deployment: p.deploymentId, target: p.targetId, run: p.runId, at: p.at, step: p.i.step, kind: p.i.kind, asked: p.i.asked.slice(0, 2000), outcome: p.i.outcome,
        answer: p.i.answer ?? null, by: (p.i.by ?? "").slice(0, 200), applied: (p.i.applied ?? "").slice(0, 200),
      });
    },
    prompts: (targetId: number, limit = 500) => q.prompts.all(targetId, limit),
    /** Targets of a deployment waiting for their users' postponement to end. */
    heldCount: (deploymentId: number, now: number) => q.held.get(deploymentId, now)!.n,
  };
}

export type PromptsRepo = ReturnType<typeof promptsRepo>;

/** Whether the target waits for its user's postponement to end (state queued, resume_at ahead). */
export function heldUntil(t: Pick<TargetRow, "state">, f: DeferralRow | null, now: number): number | null {
  return t.state === "queued" && f?.resume_at && f.resume_at > now ? f.resume_at : null;
}

/** What the agent may do at a defer step in the run about to be sent. */
export function grantFor(d: Pick<DeploymentRow, "start_at" | "deadline_at">, f: DeferralRow | null, now: number): Grant {
  const used = f?.used ?? 0;
  if (f && f.used >= f.max_deferrals) return { used, allowed: false, why: `the ${f.max_deferrals} postponement(s) allowed are used` };
  if (f?.capped) return { used, allowed: false, why: "the deadline is near" };
  if (now >= d.deadline_at - graceMs(d)) return { used, allowed: false, why: "the deadline is near" };
  return { used, allowed: true };
}

export type DeferDecision =
  | { ok: true; used: number; max: number; delay: number; resumeAt: number; capped: boolean }
  | { ok: false; why: string; used: number; max: number; delay: number };

/**
 * A `deferred` event: the defer step it names in the frozen plan gives the limit and the
 * interval; the count and the deadline decide whether the postponement stands.
 */
export function decideDeferral(d: Pick<DeploymentRow, "start_at" | "deadline_at">, f: DeferralRow | null, step: unknown, now: number): DeferDecision {
  const s = step as { action?: string; maxDeferrals?: number; delayMinutes?: number } | undefined;
  if (!s || s.action !== "defer" || typeof s.maxDeferrals !== "number" || typeof s.delayMinutes !== "number") {
    return { ok: false, why: "the step named is not a deferral step of this deployment", used: f?.used ?? 0, max: f?.max_deferrals ?? 1, delay: f?.delay_minutes ?? 1 };
  }
  const used = f?.used ?? 0;
  const max = s.maxDeferrals;
  const delay = s.delayMinutes;
  const g = grantFor(d, f ? { ...f, max_deferrals: max } : null, now);
  if (!g.allowed) return { ok: false, why: g.why ?? "not allowed", used, max, delay };
  const latest = d.deadline_at - graceMs(d);
  const wanted = now + delay * 60_000;
  return { ok: true, used: used + 1, max, delay, resumeAt: Math.max(now, Math.min(wanted, latest)), capped: wanted > latest };
}
