/**
 * @module machine-groups/table-file
 * Reads the file of a group import (SPEC C7) into a table of text cells: CSV (RFC 4180
 * quoting; `,` `;` or tab found from the first lines; UTF-8 with or without BOM, UTF-16 by
 * its BOM, else Windows-1252 as Excel writes it in France) or Excel .xlsx (the first
 * worksheet, read from the zip with `unzipper` and its XML parts by ./xlsx.ts). Anything
 * else — an old .xls, a PDF, an image — is refused with a `TableFileError` that says what
 * to do. Every way a file can be too big has its limit and its own message.
 */
import { readXlsx } from "./xlsx.ts";

export const TABLE_LIMITS = {
  /** Bytes of the uploaded file. */
  fileBytes: 10 * 1024 * 1024,
  rows: 20_000,
  columns: 64,
  cellChars: 1_000,
  /** Bytes of one part of an xlsx once inflated, and of all parts read together. */
  partBytes: 64 * 1024 * 1024,
  totalBytes: 128 * 1024 * 1024,
  zipEntries: 10_000,
  /** Characters of all cells together (an .xlsx repeating one long shared string). */
  tableChars: 16 * 1024 * 1024,
} as const;

export type TableFileProblem =
  | "empty" | "not_table" | "xls" | "too_large" | "too_many_rows" | "too_many_columns" | "zip_bomb" | "zip_path" | "zip_corrupt" | "no_sheet" | "xml";

/** Why a file cannot be read; `detail` is for logs and API callers, the key for people. */
export class TableFileError extends Error {
  constructor(
    readonly problem: TableFileProblem,
    readonly detail = "",
  ) {
    super(`${problem}${detail ? `: ${detail}` : ""}`);
  }
}

export interface Table {
  format: "csv" | "xlsx";
  rows: string[][];
  /** Blank rows are kept as [] so row numbers are the file's. */
  /** The worksheet read (xlsx). */
  sheet?: string;
}

const ZIP = [0x50, 0x4b, 0x03, 0x04];
const OLE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const startsWith = (b: Uint8Array, sig: number[]) => sig.every((x, i) => b[i] === x);

export async function readTableFile(bytes: Uint8Array): Promise<Table> {
  if (bytes.length === 0) throw new TableFileError("empty");
  if (bytes.length > TABLE_LIMITS.fileBytes) throw new TableFileError("too_large", `${bytes.length} bytes`);
  if (startsWith(bytes, OLE)) throw new TableFileError("xls");
  if (startsWith(bytes, ZIP)) return { format: "xlsx", ...(await readXlsx(bytes)) };
  return { format: "csv", rows: parseCsv(decodeText(bytes)) };
}

export function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder("utf-8").decode(bytes.subarray(3));
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes.subarray(2));
  // Text files have no NUL bytes; binary files (PDF, images, executables) nearly always do.
  const head = bytes.subarray(0, 8192);
  if (head.includes(0) || /^%PDF|^\x89PNG|^GIF8|^\xff\xd8/.test(new TextDecoder("latin1").decode(head.subarray(0, 8)))) throw new TableFileError("not_table");
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder("windows-1252").decode(bytes);
  }
}

/** The separator that splits the first lines into the most, equal, columns. */
function detectDelimiter(text: string): string {
  const lines = text.split(/\r\n|\n|\r/, 10).filter((l) => l.trim() !== "");
  let best = ",";
  let bestScore = 0;
  for (const d of [";", ",", "\t", "|"]) {
    const counts = lines.map((l) => splitOutsideQuotes(l, d));
    const first = counts[0] ?? 0;
    if (first === 0) continue;
    const steady = counts.filter((c) => c === first).length;
    const score = steady * 100 + first;
    if (score > bestScore) {
      best = d;
      bestScore = score;
    }
  }
  return best;
}

function splitOutsideQuotes(line: string, d: string): number {
  let n = 0;
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === d && !quoted) n++;
  }
  return n;
}

/** RFC 4180 with the common liberties: any line ending, a stray quote inside a field kept as is. */
export function parseCsv(text: string, delimiter = detectDelimiter(text)): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = 0;
  const endField = () => {
    if (field.length > TABLE_LIMITS.cellChars) field = field.slice(0, TABLE_LIMITS.cellChars);
    row.push(field);
    if (row.length > TABLE_LIMITS.columns) throw new TableFileError("too_many_columns", `more than ${TABLE_LIMITS.columns}`);
    field = "";
  };
  const endRow = () => {
    endField();
    // A blank line stays (as []) so that row numbers are the file's.
    rows.push(row.some((c) => c.trim() !== "") ? row : []);
    if (rows.length > TABLE_LIMITS.rows) throw new TableFileError("too_many_rows", `more than ${TABLE_LIMITS.rows}`);
    row = [];
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === "") quoted = true;
    else if (ch === delimiter) endField();
    else if (ch === "\r" || ch === "\n") {
      endRow();
      if (ch === "\r" && text[i + 1] === "\n") i++;
    } else field += ch;
    i++;
  }
  if (field !== "" || row.length) endRow();
  while (rows.length && rows.at(-1)!.length === 0) rows.pop();
  if (rows.length === 0) throw new TableFileError("empty");
  return rows.map((r) => r.map((c) => c.trim()));
}
