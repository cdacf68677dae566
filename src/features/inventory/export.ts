/**
 * @module inventory/export
 * CSV export of any keyset-paged list: the history's RFC 4180 writer (BOM, CRLF, quoting,
 * formula guard) fed one page at a time, so memory stays flat whatever the list's length
 * and every row that matches the filters is exported, not only the page on screen.
 */
import { csvStream } from "../history/csv.ts";
import { formatSortable } from "../history/time.ts";

/** More rows than this ends the file early (a spreadsheet would not open it anyway). */
export const EXPORT_CAP = 1_000_000;

export interface Paged<Row, Key> {
  items: Row[];
  next: Key | null;
}

/**
 * The batches of a paged list: `fetch(after)` returns one page and the key of the next;
 * `cells` turns a row into its CSV cells.
 */
export function pagedBatches<Row, Key>(fetch: (after: Key | null) => Paged<Row, Key>, cells: (row: Row) => string[], cap = EXPORT_CAP): () => string[][] {
  let after: Key | null = null;
  let done = false;
  let sent = 0;
  return () => {
    if (done) return [];
    const page = fetch(after);
    after = page.next;
    done = page.next === null || sent + page.items.length >= cap;
    const rows = page.items.slice(0, cap - sent).map(cells);
    sent += rows.length;
    return rows;
  };
}

/** A CSV download named `medulla-<what>-<YYYYMMDD-HHMM>.csv` (appliance time). */
export function csvDownload(what: string, header: readonly string[], nextBatch: () => readonly (readonly string[])[], at: { now: number; timeZone: string }): Response {
  const stamp = formatSortable(at.now, at.timeZone).replace(/[-:]/g, "").replace(" ", "-").slice(0, 13);
  return new Response(csvStream(header, nextBatch), {
    headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="medulla-${what}-${stamp}.csv"` },
  });
}
