/**
 * @module history/export
 * The filtered history as a file (SPEC L4): every matching row, not only the page on
 * screen. CSV streams batch by batch up to `CSV_CAP` rows; PDF is built in memory, so it
 * stops at `PDF_CAP` rows and says so on its last page. Both use the reader's language
 * and the appliance's time zone, and end with a note when the cap cut them short.
 */
import type { Lang, T } from "../../i18n/index.ts";
import { csvStream } from "./csv.ts";
import { tablePdf } from "./pdf.ts";
import { presentEntry, type EntryView } from "./present.ts";
import type { RowReader } from "./service.ts";
import { formatSortable } from "./time.ts";

export const CSV_CAP = 1_000_000;
export const PDF_CAP = 20_000;

export interface ExportContext {
  t: T;
  lang: Lang;
  timeZone: string;
  now: number;
  /** Lines describing the filters used (the PDF prints them under its title). */
  filters: readonly string[];
}

const cells = (e: EntryView) => [e.date, e.user, e.who, e.module, e.text, e.ip, e.target];

function headers(t: T): string[] {
  return [t("history.col.date"), t("history.col.user"), t("history.col.who"), t("history.col.module"), t("history.col.text"), t("history.col.ip"), t("history.col.target")];
}

export function exportFileName(now: number, timeZone: string, ext: "csv" | "pdf"): string {
  const stamp = formatSortable(now, timeZone).replace(/[-:]/g, "").replace(" ", "-").slice(0, 13);
  return `medulla-history-${stamp}.${ext}`;
}

function attachment(type: string, name: string): Record<string, string> {
  return { "content-type": type, "content-disposition": `attachment; filename="${name}"` };
}

export function csvResponse(reader: RowReader, ctx: ExportContext): Response {
  const stream = csvStream(
    headers(ctx.t),
    () => reader.nextBatch().map((row) => cells(presentEntry(row, ctx.lang, ctx.timeZone, "sortable"))),
    () => (reader.isTruncated() ? ["", "", "", "", ctx.t("history.export.truncated", { n: CSV_CAP.toLocaleString(ctx.lang) })] : null),
  );
  return new Response(stream, { headers: attachment("text/csv; charset=utf-8", exportFileName(ctx.now, ctx.timeZone, "csv")) });
}

export function pdfResponse(reader: RowReader, ctx: ExportContext): Response {
  const rows: string[][] = [];
  for (let batch = reader.nextBatch(); batch.length > 0; batch = reader.nextBatch()) {
    for (const row of batch) rows.push(cells(presentEntry(row, ctx.lang, ctx.timeZone, "sortable")));
  }
  const bytes = tablePdf({
    title: ctx.t("history.export.title"),
    lines: ctx.filters,
    columns: headers(ctx.t).map((header, i) => ({ header, weight: [13, 9, 10, 9, 38, 9, 12][i]! })),
    rows,
    note: reader.isTruncated() ? ctx.t("history.export.truncated", { n: PDF_CAP.toLocaleString(ctx.lang) }) : undefined,
    pageLabel: (page, pages) => ctx.t("history.export.page", { page, pages }),
  });
  return new Response(bytes, { headers: attachment("application/pdf", exportFileName(ctx.now, ctx.timeZone, "pdf")) });
}
