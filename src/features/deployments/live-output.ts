/**
 * @module deployments/live-output
 * A running step's output as the agent sends it while the step runs (`deployevent` with
 * `output`, src/protocol/actions.ts LiveOutputBatch; the agent side is
 * agent/src/deploy/live.ts), stored in `deployment_live_output` (migration 0010), one row
 * per batch. The engine applies each event once (its sequence number); this module keeps
 * the lines themselves in order: a batch of an older step execution, or lines already
 * stored (a hostile or confused agent: the sequence numbers keep an honest one from ever
 * doing it), are refused or trimmed with a reason, never stored twice. The gap between
 * one batch's end and the next batch's first line is the lines the agent left out.
 */
import type { Database } from "bun:sqlite";
import type { LiveOutputBatch } from "../../protocol/actions.ts";

/** The server's own cap per step execution, whatever an agent sends. */
export const SERVER_LIVE = { maxLinesPerExec: 2_000, tailLines: 15 };

export interface LiveRow {
  id: number;
  target_id: number;
  run_id: string;
  exec: number;
  step: number;
  first_line: number;
  line_count: number;
  omitted: number;
  capped: number;
  at: number;
  text: string;
}

export interface LiveTail {
  exec: number;
  step: number;
  /** Display lines, oldest first: output lines and `{ omitted }` markers. */
  lines: ({ text: string } | { omitted: number } | { capped: true })[];
}

export function liveOutputStore(db: Database) {
  const q = {
    last: db.query<LiveRow, [number, string]>(`SELECT * FROM deployment_live_output WHERE target_id = ? AND run_id = ? ORDER BY id DESC LIMIT 1`),
    lines: db.query<{ n: number | null; capped: number | null }, [number, string, number]>(
      `SELECT sum(line_count) AS n, max(capped) AS capped FROM deployment_live_output WHERE target_id = ? AND run_id = ? AND exec = ?`,
    ),
    insert: db.query<null, [number, string, number, number, number, number, number, number, number, string]>(
      `INSERT INTO deployment_live_output (target_id, run_id, exec, step, first_line, line_count, omitted, capped, at, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    lastRows: db.query<LiveRow, [number, string, number, number]>(
      `SELECT * FROM (SELECT * FROM deployment_live_output WHERE target_id = ? AND run_id = ? AND exec = ? ORDER BY id DESC LIMIT ?) ORDER BY id`,
    ),
    ofTarget: db.query<LiveRow, [number, number]>(`SELECT * FROM deployment_live_output WHERE target_id = ? ORDER BY id LIMIT ?`),
  };

  return {
    /**
     * Stores one batch of run `runId` of target `targetId`. `problem` says why (part of)
     * it was refused; the caller logs it.
     */
    apply(targetId: number, runId: string, b: LiveOutputBatch, now: number): { stored: number; problem?: string } {
      const last = q.last.get(targetId, runId);
      if (last && b.exec < last.exec) return { stored: 0, problem: `output of step execution ${b.exec} arrived after execution ${last.exec} had started: ignored` };
      const sameExec = last && last.exec === b.exec;
      const next = sameExec ? last.first_line + last.line_count : 0;
      const sums = q.lines.get(targetId, runId, b.exec);
      if (sums?.capped) return { stored: 0, problem: `output of step execution ${b.exec} after its cap: ignored` };
      let lines = b.lines;
      let from = b.from;
      let problem: string | undefined;
      if (from < next) {
        const overlap = next - from;
        if (overlap >= lines.length && !b.capped) return { stored: 0, problem: `output lines ${from}–${from + lines.length - 1} of step execution ${b.exec} were already received: ignored` };
        problem = `output lines ${from}–${Math.min(next, from + lines.length) - 1} of step execution ${b.exec} were already received: dropped, the rest kept`;
        lines = lines.slice(overlap);
        from = next;
      }
      const have = sums?.n ?? 0;
      let capped = b.capped === true;
      if (have + lines.length > SERVER_LIVE.maxLinesPerExec) {
        lines = lines.slice(0, Math.max(0, SERVER_LIVE.maxLinesPerExec - have));
        capped = true;
        problem = `step execution ${b.exec} sent more than ${SERVER_LIVE.maxLinesPerExec} live output lines: the rest is ignored until the step ends`;
      }
      if (!lines.length && !capped) return { stored: 0, ...(problem ? { problem } : {}) };
      q.insert.run(targetId, runId, b.exec, b.step, from, lines.length, from - next, capped ? 1 : 0, now, lines.join("\n"));
      return { stored: lines.length, ...(problem ? { problem } : {}) };
    },

    /**
     * A step execution started (its start event carries `exec`): an empty row marks it, so
     * the follow page stops showing the previous step's output at once.
     */
    begin(targetId: number, runId: string, exec: number, step: number, now: number): void {
      const last = q.last.get(targetId, runId);
      if (last && last.exec >= exec) return;
      q.insert.run(targetId, runId, exec, step, 0, 0, 0, 0, now, "");
    },

    /** The newest lines of the run's latest step execution, for the follow page's row. */
    tail(targetId: number, runId: string, max = SERVER_LIVE.tailLines): LiveTail | null {
      const last = q.last.get(targetId, runId);
      if (!last) return null;
      const rows = q.lastRows.all(targetId, runId, last.exec, max);
      const lines: LiveTail["lines"] = [];
      for (const r of rows) {
        if (r.omitted > 0) lines.push({ omitted: r.omitted });
        if (r.line_count > 0) for (const text of r.text.split("\n")) lines.push({ text });
        if (r.capped) lines.push({ capped: true });
      }
      return { exec: last.exec, step: last.step, lines: lines.slice(-max) };
    },

    /** Every batch of a target (all its runs), oldest first, for its log. */
    rowsOf: (targetId: number, limit = 5_000) => q.ofTarget.all(targetId, limit),
  };
}

export type LiveOutputStore = ReturnType<typeof liveOutputStore>;
