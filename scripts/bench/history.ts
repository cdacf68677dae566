/**
 * @module scripts/bench/history
 * The history at scale: a million rows in a temporary file database (one transaction;
 * a year of activity spread over the modules, criteria, users and machines the way a
 * busy appliance would write them), then the reads a reader does, through the history
 * service, against the same SQL run straight on SQLite:
 *   - the first page of a filtered view (8 of 12 modules, last 30 days, 50 rows);
 *   - a deep page of the same view (keyset, half a year back), and the OFFSET way;
 *   - a free-text search page;
 *   - the CSV export of a filtered set (one module, 90 days) against a plain dump.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAccess } from "../../src/access.ts";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase } from "../../src/db/index.ts";
import { CSV_CAP, csvResponse } from "../../src/features/history/export.ts";
import type { HistoryFilter } from "../../src/features/history/model.ts";
import { HISTORY_MODULES, logsKey, type HistoryModule } from "../../src/features/history/permissions.ts";
import { createHistoryService, createRecorder } from "../../src/features/history/service.ts";
import { translator } from "../../src/i18n/index.ts";
import { timeMs, type Report } from "../bench.ts";

const ROWS = 1_000_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1, 12);

// Share of the rows per module, and the criteria each module's entries carry.
const SPREAD: [HistoryModule, number, string[]][] = [
  ["inventory", 30, ["inventory", "requested", "newmachine", "machine"]],
  ["deployment", 20, ["deployment", "planned", "machine"]],
  ["auth", 15, ["user"]],
  ["quickaction", 8, ["quickaction", "machine"]],
  ["imaging", 6, ["master", "machine", "newmachine"]],
  ["backup", 5, ["planned", "machine"]],
  ["kiosk", 4, ["user", "deployment"]],
  ["download", 3, ["machine"]],
  ["packaging", 3, ["user"]],
  ["remotedesktop", 2, ["user", "machine"]],
  ["users", 2, ["user"]],
  ["system", 2, ["none"]],
];

/** A small deterministic generator, so every run measures the same data. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes `ROWS` rows of a year of activity ending at `NOW` (exported for ad-hoc query-plan checks). */
export function fill(db: ReturnType<typeof openDatabase>): void {
  const rnd = random(42);
  const weights = SPREAD.flatMap(([m, w, c]) => Array<[HistoryModule, string[]]>(w).fill([m, c]));
  const insert = db.query(
    `INSERT INTO history (at, user_login, who, module, criterion, action, params, text, source_ip, target_type, target_id, target_name)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)`,
  );
  const start = NOW - 365 * DAY;
  const step = (365 * DAY) / ROWS;
  db.transaction(() => {
    for (let i = 0; i < ROWS; i++) {
      const [module, criteria] = weights[Math.floor(rnd() * weights.length)]!;
      const criterion = criteria[Math.floor(rnd() * criteria.length)]!;
      const machine = `PC-${String(Math.floor(rnd() * 3000)).padStart(4, "0")}`;
      const isUser = criterion === "user" || rnd() < 0.3;
      const login = isUser ? `tech${Math.floor(rnd() * 40)}` : "";
      const who = isUser ? "" : module === "system" ? "scheduler" : machine;
      const text = `${module} ${criterion}: ${isUser ? login : "agent"} on ${machine} (${Math.floor(rnd() * 1e6)})`;
      // Times grow with ids, as they do when rows are written as things happen; some share a millisecond.
      const at = Math.floor(start + i * step) - (i % 7 === 0 ? 0 : Math.floor(rnd() * 3));
      insert.run(at, login, who, module, criterion, `bench.${module}`, "{}", text, isUser ? `10.0.${i % 250}.${(i >> 8) % 250}` : "", "machine", machine, machine);
    }
  })();
}

export default async function history(report: Report): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "medulla-bench-history-"));
  try {
    const db = openDatabase(join(dir, "history.db"));
    const loaded = performance.now();
    fill(db);
    db.exec("ANALYZE");
    console.error(`bench: history: ${ROWS.toLocaleString("en")} rows written in ${((performance.now() - loaded) / 1000).toFixed(1)} s`);

    // A reader with 8 of the 12 modules: its scope goes into the SQL as a list.
    const readable = new Set(HISTORY_MODULES.filter((m) => !["kiosk", "download", "packaging", "remotedesktop"].includes(m)).map(logsKey));
    const access = createAccess(() => readable);
    const viewer = { id: 2, isSuper: false };
    const clock = new ManualClock(NOW);
    const service = createHistoryService({ db, clock, access, recorder: createRecorder(db, () => clock.now()) });
    const scope = HISTORY_MODULES.filter((m) => readable.has(logsKey(m)));
    const list = scope.map((_, i) => `?${i + 1}`).join(", ");
    const cols = "id, at, user_login, who, module, criterion, action, params, text, source_ip, target_type, target_id, target_name";

    const recent: HistoryFilter = { module: null, from: NOW - 30 * DAY, to: NOW, criterion: null, search: "" };
    const direct = db.query(`SELECT ${cols} FROM history WHERE +module IN (${list}) AND at >= ?9 AND at < ?10 ORDER BY at DESC, id DESC LIMIT 51`);
    const first = await timeMs(50, () => service.page(viewer, recent, { size: 50, cursor: null }));
    const firstPeer = await timeMs(50, () => direct.all(...scope, recent.from, recent.to));
    report({ name: "history-first-page-lower-better", value: first, unit: "ms", peer: { name: "sqlite-direct", value: firstPeer } });

    // Half a year back in the whole year: a cursor from a row in the middle.
    const year: HistoryFilter = { module: null, from: null, to: null, criterion: null, search: "" };
    const mid = db.query("SELECT at, id FROM history WHERE at < ? ORDER BY at DESC, id DESC LIMIT 1").get(NOW - 182 * DAY) as { at: number; id: number };
    const depth = (db.query(`SELECT count(*) AS n FROM history WHERE +module IN (${list}) AND (at > ?9 OR (at = ?9 AND id >= ?10))`).get(...scope, mid.at, mid.id) as { n: number }).n;
    const deepKeyset = db.query(`SELECT ${cols} FROM history WHERE +module IN (${list}) AND at <= ?9 AND (at < ?9 OR id < ?10) ORDER BY at DESC, id DESC LIMIT 51`);
    const deepOffset = db.query(`SELECT ${cols} FROM history WHERE +module IN (${list}) ORDER BY at DESC, id DESC LIMIT 51 OFFSET ?9`);
    const deep = await timeMs(50, () => service.page(viewer, year, { size: 50, cursor: { dir: "after", ...mid } }));
    const deepPeer = await timeMs(50, () => deepKeyset.all(...scope, mid.at, mid.id));
    const offsetPeer = await timeMs(5, () => deepOffset.all(...scope, depth));
    report({ name: "history-deep-page-lower-better", value: deep, unit: "ms", peer: { name: "sqlite-direct", value: deepPeer } });
    report({ name: "history-deep-page-vs-offset-lower-better", value: deep, unit: "ms", peer: { name: `sqlite-offset-${depth}`, value: offsetPeer } });

    const search: HistoryFilter = { ...recent, search: "tech7 on PC-01" };
    const searchSql = db.query(
      `SELECT ${cols} FROM history WHERE +module IN (${list}) AND at >= ?9 AND at < ?10 AND (text LIKE ?11 ESCAPE '\\' OR user_login LIKE ?11 ESCAPE '\\' OR who LIKE ?11 ESCAPE '\\' OR target_name LIKE ?11 ESCAPE '\\') ORDER BY at DESC, id DESC LIMIT 51`,
    );
    const searched = await timeMs(10, () => service.page(viewer, search, { size: 50, cursor: null }));
    const searchedPeer = await timeMs(10, () => searchSql.all(...scope, search.from, search.to, `%${search.search}%`));
    report({ name: "history-search-page-lower-better", value: searched, unit: "ms", peer: { name: "sqlite-direct", value: searchedPeer } });

    // CSV: one module over 90 days, every row, as the browser would download it.
    const quarter: HistoryFilter = { module: "deployment", from: NOW - 90 * DAY, to: NOW, criterion: null, search: "" };
    const t = translator("fr");
    let rows = 0;
    const csv = await timeMs(3, async () => {
      const res = csvResponse(service.reader(viewer, quarter, { cap: CSV_CAP }), { t, lang: "fr", timeZone: "Europe/Paris", now: NOW, filters: [] });
      const text = await res.text();
      rows = text.split("\r\n").length - 2;
    });
    const dump = db.query(`SELECT ${cols} FROM history WHERE module = ?1 AND at >= ?2 AND at < ?3 ORDER BY at DESC, id DESC`);
    const csvPeer = await timeMs(3, () => dump.values("deployment", quarter.from, quarter.to).map((r) => r.join(",")).join("\n"));
    report({ name: `history-csv-${rows}-rows-lower-better`, value: csv, unit: "ms", peer: { name: "sqlite-dump", value: csvPeer } });
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
