/**
 * @module history/csv
 * CSV as RFC 4180 writes it (comma, CRLF, fields with a comma, quote or line break in
 * double quotes, quotes doubled), with a UTF-8 byte-order mark so Excel reads accents,
 * and with cells that a spreadsheet would run as a formula (= + - @, tab, CR first)
 * prefixed with a quote. The stream pulls one batch at a time: memory stays flat
 * whatever the number of rows, and a slow client slows the reads, not the server.
 */

const encoder = new TextEncoder();

export const BOM = "\uFEFF";

export function csvCell(value: string): string {
  const guarded = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

export function csvLine(cells: readonly string[]): string {
  return `${cells.map(csvCell).join(",")}\r\n`;
}

/**
 * A byte stream: the BOM and `header`, then each batch `nextBatch` returns until it
 * returns none, then the optional `trailer` line (e.g. "truncated").
 */
export function csvStream(header: readonly string[], nextBatch: () => readonly (readonly string[])[], trailer?: () => readonly string[] | null): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(BOM + csvLine(header)));
    },
    pull(controller) {
      const rows = nextBatch();
      if (rows.length > 0) {
        controller.enqueue(encoder.encode(rows.map(csvLine).join("")));
        return;
      }
      const last = trailer?.();
      if (last) controller.enqueue(encoder.encode(csvLine(last)));
      controller.close();
    },
  });
}
