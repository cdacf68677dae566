/**
 * @module deployments/repo
 * SQL over `deployments`, `deployment_targets`, `deployment_logs`, `deployment_rules` and
 * `convergences` (migration 0009), as functions named for what the engine means by them.
 */
import type { Database } from "bun:sqlite";

export type DeploymentStatus = "scheduled" | "running" | "done" | "stopped" | "expired";
export type TargetState = "queued" | "waking" | "waiting" | "transferring" | "running" | "succeeded" | "failed" | "stopped" | "expired";
export type Reason = "offline" | "download" | "checksum" | "permission" | "step" | "vanished" | "agent" | "refused" | "stopped" | "expired" | "rule";
export type Section = "install" | "update" | "uninstall" | "launch";

export const TERMINAL: readonly TargetState[] = ["succeeded", "failed", "stopped", "expired"];
export const PRE_DISPATCH: readonly TargetState[] = ["queued", "waking", "waiting"];
export const isTerminal = (s: TargetState) => TERMINAL.includes(s);

export interface DeploymentRow {
  id: number;
  kind: "deploy" | "convergence";
  title: string;
  package_ref: string;
  package_name: string;
  package_version: string;
  section: Section;
  plan: string;
  plan_sha256: string;
  transfer: "pull" | "push";
  bandwidth_kbps: number;
  priority: "high" | "normal";
  target_type: "machines" | "group";
  target_id: number | null;
  target_label: string;
  start_at: number;
  deadline_at: number;
  status: DeploymentStatus;
  convergence_id: number | null;
  relay_id: string;
  created_by: number | null;
  created_by_login: string;
  relaunch_of: number | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

export interface TargetRow {
  id: number;
  deployment_id: number;
  machine_id: number | null;
  hostname: string;
  state: TargetState;
  reason: Reason | null;
  detail: string;
  step: number | null;
  step_label: string;
  exit_code: number | null;
  run_id: string;
  attempt: number;
  last_seq: number;
  wake_tries: number;
  last_wake_at: number | null;
  sent_at: number | null;
  send_count: number;
  acked_at: number | null;
  bytes_done: number;
  bytes_total: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

export interface LogRow {
  id: number;
  deployment_id: number;
  target_id: number | null;
  at: number;
  kind: "server" | "state" | "step" | "output" | "download";
  step: number | null;
  exit_code: number | null;
  text: string;
}

export interface RuleRow {
  id: number;
  position: number;
  name: string;
  description: string;
  enabled: number;
  os: "" | "linux" | "windows" | "darwin";
  group_id: number | null;
  window_start: number | null;
  window_end: number | null;
  max_parallel: number | null;
  created_at: number;
  updated_at: number;
}

export interface ConvergenceRow {
  id: number;
  name: string;
  group_id: number;
  group_label: string;
  package_ref: string;
  package_name: string;
  uninstall_on_leave: number;
  enabled: number;
  created_by: number | null;
  created_by_login: string;
  created_at: number;
  updated_at: number;
}

export interface NewDeployment {
  kind: "deploy" | "convergence";
  title: string;
  packageRef: string;
  packageName: string;
  packageVersion: string;
  section: Section;
  plan: string;
  planSha256: string;
  transfer: "pull" | "push";
  bandwidthKbps: number;
  priority: "high" | "normal";
  targetType: "machines" | "group";
  targetId: number | null;
  targetLabel: string;
  startAt: number;
  deadlineAt: number;
  convergenceId: number | null;
  createdBy: number | null;
  createdByLogin: string;
}

export type Counts = Record<TargetState, number> & { total: number };

export function deploymentsRepo(db: Database) {
  const q = {
    insertDeployment: db.query<{ id: number }, Record<string, string | number | null>>(
      `INSERT INTO deployments (kind, title, package_ref, package_name, package_version, section, plan, plan_sha256, transfer, bandwidth_kbps, priority,
         target_type, target_id, target_label, start_at, deadline_at, status, convergence_id, created_by, created_by_login, created_at, updated_at)
       VALUES ($kind, $title, $packageRef, $packageName, $packageVersion, $section, $plan, $planSha256, $transfer, $bandwidthKbps, $priority,
         $targetType, $targetId, $targetLabel, $startAt, $deadlineAt, 'scheduled', $convergenceId, $createdBy, $createdByLogin, $now, $now) RETURNING id`,
    ),
    insertTarget: db.query<{ id: number }, [number, number, string, string, number]>(
      `INSERT INTO deployment_targets (deployment_id, machine_id, hostname, run_id, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
    ),
    find: db.query<DeploymentRow, [number]>(`SELECT * FROM deployments WHERE id = ?`),
    active: db.query<DeploymentRow, []>(`SELECT * FROM deployments WHERE status IN ('scheduled', 'running') ORDER BY priority = 'high' DESC, start_at, id`),
    targets: db.query<TargetRow, [number]>(`SELECT * FROM deployment_targets WHERE deployment_id = ? ORDER BY hostname COLLATE NOCASE, id`),
    target: db.query<TargetRow, [number]>(`SELECT * FROM deployment_targets WHERE id = ?`),
    targetByRun: db.query<TargetRow, [string]>(`SELECT * FROM deployment_targets WHERE run_id = ?`),
    activeTargetsOfMachine: db.query<TargetRow, [number]>(
      `SELECT t.* FROM deployment_targets t JOIN deployments d ON d.id = t.deployment_id
        WHERE t.machine_id = ? AND t.state NOT IN ('succeeded', 'failed', 'stopped', 'expired') AND d.status IN ('scheduled', 'running')`,
    ),
    inFlight: db.query<TargetRow & { d_status: string }, []>(
      `SELECT t.*, d.status AS d_status FROM deployment_targets t JOIN deployments d ON d.id = t.deployment_id
        WHERE d.status = 'running' AND (t.state IN ('transferring', 'running') OR (t.state = 'queued' AND t.sent_at IS NOT NULL))`,
    ),
    counts: db.query<{ state: TargetState; n: number }, [number]>(`SELECT state, count(*) AS n FROM deployment_targets WHERE deployment_id = ? GROUP BY state`),
    reasonCounts: db.query<{ reason: Reason; n: number }, [number]>(`SELECT reason, count(*) AS n FROM deployment_targets WHERE deployment_id = ? AND reason IS NOT NULL GROUP BY reason`),
    addLog: db.query<null, [number, number | null, number, string, number | null, number | null, string]>(
      `INSERT INTO deployment_logs (deployment_id, target_id, at, kind, step, exit_code, text) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    logs: db.query<LogRow, [number, number]>(`SELECT * FROM deployment_logs WHERE target_id = ? ORDER BY id LIMIT ?`),
    deploymentLogs: db.query<LogRow, [number, number]>(`SELECT * FROM deployment_logs WHERE deployment_id = ? AND target_id IS NULL ORDER BY id LIMIT ?`),
    setStatus: db.query<null, [string, number, number | null, number]>(`UPDATE deployments SET status = ?, updated_at = ?, finished_at = ? WHERE id = ?`),
  };

  function updateTarget(id: number, fields: Partial<Omit<TargetRow, "id">>, now: number): void {
    const keys = Object.keys(fields);
    const sets = keys.map((k) => `${k} = $${k}`).join(", ");
    const params: Record<string, string | number | null> = { id: id, now: now };
    for (const k of keys) params[k] = (fields as Record<string, string | number | null>)[k] ?? null;
    db.query(`UPDATE deployment_targets SET ${sets}${sets ? ", " : ""}updated_at = $now WHERE id = $id`).run(params);
  }

  return {
    transaction: <T>(fn: () => T): T => db.transaction(fn)(),
    insertDeployment(d: NewDeployment, now: number): number {
      const params: Record<string, string | number | null> = { now: now };
      for (const [k, v] of Object.entries(d)) params[k] = v;
      return q.insertDeployment.get(params)!.id;
    },
    insertTarget: (deploymentId: number, machineId: number, hostname: string, now: number): number | null =>
      q.insertTarget.get(deploymentId, machineId, hostname, crypto.randomUUID(), now)?.id ?? null,
    find: (id: number) => q.find.get(id),
    active: () => q.active.all(),
    targets: (deploymentId: number) => q.targets.all(deploymentId),
    target: (id: number) => q.target.get(id),
    targetByRun: (runId: string) => q.targetByRun.get(runId),
    activeTargetsOfMachine: (machineId: number) => q.activeTargetsOfMachine.all(machineId),
    inFlight: () => q.inFlight.all(),
    updateTarget,
    setStatus: (id: number, status: DeploymentStatus, now: number, finished: boolean) => q.setStatus.run(status, now, finished ? now : null, id),
    updateDeployment(id: number, fields: Partial<Pick<DeploymentRow, "deadline_at" | "status" | "finished_at" | "start_at">>, now: number): void {
      const keys = Object.keys(fields);
      const params: Record<string, string | number | null> = { id: id, now: now };
      for (const k of keys) params[k] = (fields as Record<string, string | number | null>)[k] ?? null;
      db.query(`UPDATE deployments SET ${keys.map((k) => `${k} = $${k}`).join(", ")}, updated_at = $now WHERE id = $id`).run(params);
    },
    counts(deploymentId: number): Counts {
      const c = { queued: 0, waking: 0, waiting: 0, transferring: 0, running: 0, succeeded: 0, failed: 0, stopped: 0, expired: 0, total: 0 } as Counts;
      for (const r of q.counts.all(deploymentId)) {
        c[r.state] = r.n;
        c.total += r.n;
      }
      return c;
    },
    reasonCounts: (deploymentId: number) => Object.fromEntries(q.reasonCounts.all(deploymentId).map((r) => [r.reason, r.n])) as Partial<Record<Reason, number>>,
    addLog: (deploymentId: number, targetId: number | null, at: number, kind: LogRow["kind"], text: string, step: number | null = null, exitCode: number | null = null) =>
      q.addLog.run(deploymentId, targetId, at, kind, step, exitCode, text),
    logs: (targetId: number, limit = 2000) => q.logs.all(targetId, limit),
    deploymentLogs: (deploymentId: number, limit = 500) => q.deploymentLogs.all(deploymentId, limit),

    // Rules (P4)
    rules: () => db.query<RuleRow, []>(`SELECT * FROM deployment_rules ORDER BY position, id`).all(),
    rule: (id: number) => db.query<RuleRow, [number]>(`SELECT * FROM deployment_rules WHERE id = ?`).get(id),
    insertRule(r: Omit<RuleRow, "id" | "position" | "created_at" | "updated_at">, now: number): number {
      const pos = db.query<{ p: number | null }, []>(`SELECT max(position) AS p FROM deployment_rules`).get()!.p ?? 0;
      return db
        .query<{ id: number }, Record<string, string | number | null>>(
          `INSERT INTO deployment_rules (position, name, description, enabled, os, group_id, window_start, window_end, max_parallel, created_at, updated_at)
           VALUES ($position, $name, $description, $enabled, $os, $group_id, $window_start, $window_end, $max_parallel, $now, $now) RETURNING id`,
        )
        .get({ position: pos + 1, name: r.name, description: r.description, enabled: r.enabled, os: r.os, group_id: r.group_id, window_start: r.window_start, window_end: r.window_end, max_parallel: r.max_parallel, now: now })!.id;
    },
    updateRule(id: number, r: Omit<RuleRow, "id" | "position" | "created_at" | "updated_at">, now: number): void {
      db.query(
        `UPDATE deployment_rules SET name = $name, description = $description, enabled = $enabled, os = $os, group_id = $group_id, window_start = $window_start,
           window_end = $window_end, max_parallel = $max_parallel, updated_at = $now WHERE id = $id`,
      ).run({ id: id, name: r.name, description: r.description, enabled: r.enabled, os: r.os, group_id: r.group_id, window_start: r.window_start, window_end: r.window_end, max_parallel: r.max_parallel, now: now });
    },
    deleteRule: (id: number) => db.query(`DELETE FROM deployment_rules WHERE id = ?`).run(id),
    setRulePosition: (id: number, position: number, now: number) => db.query(`UPDATE deployment_rules SET position = ?, updated_at = ? WHERE id = ?`).run(position, now, id),

    // Convergences (P6)
    convergences: () => db.query<ConvergenceRow, []>(`SELECT * FROM convergences ORDER BY name COLLATE NOCASE, id`).all(),
    convergence: (id: number) => db.query<ConvergenceRow, [number]>(`SELECT * FROM convergences WHERE id = ?`).get(id),
    convergencesOfGroup: (groupId: number) => db.query<ConvergenceRow, [number]>(`SELECT * FROM convergences WHERE group_id = ? AND enabled = 1`).all(groupId),
    insertConvergence(c: Omit<ConvergenceRow, "id" | "created_at" | "updated_at">, now: number): number {
      return db
        .query<{ id: number }, Record<string, string | number | null>>(
          `INSERT INTO convergences (name, group_id, group_label, package_ref, package_name, uninstall_on_leave, enabled, created_by, created_by_login, created_at, updated_at)
           VALUES ($name, $group_id, $group_label, $package_ref, $package_name, $uninstall_on_leave, $enabled, $created_by, $created_by_login, $now, $now) RETURNING id`,
        )
        .get({ name: c.name, group_id: c.group_id, group_label: c.group_label, package_ref: c.package_ref, package_name: c.package_name, uninstall_on_leave: c.uninstall_on_leave, enabled: c.enabled, created_by: c.created_by, created_by_login: c.created_by_login, now: now })!.id;
    },
    setConvergenceEnabled: (id: number, enabled: boolean, now: number) => db.query(`UPDATE convergences SET enabled = ?, updated_at = ? WHERE id = ?`).run(enabled ? 1 : 0, now, id),
    deleteConvergence: (id: number) => db.query(`DELETE FROM convergences WHERE id = ?`).run(id),
    deploymentsOfConvergence: (id: number) => db.query<DeploymentRow, [number]>(`SELECT * FROM deployments WHERE convergence_id = ? ORDER BY id DESC LIMIT 200`).all(id),

    /** Deployments for the audit lists; `where` is built by the audit feature from fixed fragments. */
    listDeployments(where: string, params: Record<string, string | number>, limit: number): DeploymentRow[] {
      return db.query<DeploymentRow, Record<string, string | number>>(`SELECT * FROM deployments WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT ${Math.max(1, Math.min(limit, 1000))}`).all(params);
    },
    /** Whether any deployment not yet finished uses this package (packages refuse to delete it). */
    usageOf: (ref: string) =>
      db.query<{ n: number }, [string, string]>(`SELECT count(*) AS n FROM deployments WHERE status IN ('scheduled', 'running') AND (package_ref = ? OR instr(plan, ?) > 0)`).get(ref, `"ref":${JSON.stringify(ref)},`)!.n,
  };
}

export type DeploymentsRepo = ReturnType<typeof deploymentsRepo>;
