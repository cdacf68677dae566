/**
 * @module dashboard/repo
 * Per-user dashboard layouts, stored as JSON.
 */
import type { Database } from "bun:sqlite";

export function dashboardRepo(db: Database) {
  const find = db.query("SELECT layout FROM dashboard_layouts WHERE user_id = $userId");
  const save = db.query(
    `INSERT INTO dashboard_layouts (user_id, layout, updated_at) VALUES ($userId, $layout, $now)
     ON CONFLICT (user_id) DO UPDATE SET layout = excluded.layout, updated_at = excluded.updated_at`,
  );
  const remove = db.query("DELETE FROM dashboard_layouts WHERE user_id = $userId");
  return {
    findLayout: (userId: number) => (find.get({ userId }) as { layout: string } | null)?.layout ?? null,
    saveLayout: (userId: number, layout: string, now: number) => save.run({ userId, layout, now }),
    deleteLayout: (userId: number) => remove.run({ userId }),
  };
}
