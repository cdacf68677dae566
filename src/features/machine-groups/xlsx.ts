/**
 * @module machine-groups/xlsx
 * The first worksheet of an Excel .xlsx file as rows of text, with no spreadsheet library:
 * the zip is opened with `unzipper`'s directory reader (in memory, nothing is written to disk), and the parts
 * read are the workbook (first sheet, 1904 date system), its relationships (where that
 * sheet is), the shared strings, the styles (which cells are dates) and the sheet, all
 * streamed through ltx's tokenizer. Cells: shared strings (rich text joined, phonetic runs
 * left out), inline strings, formula results, booleans, errors, numbers (integers without
 * a decimal point) and dates (ISO 8601, time kept when there is one); a missing cell is "".
 *
 * Hostile files: more entries than any workbook has, a name that climbs out of the archive
 * (`../`, absolute, drive letters, backslashes), a relationship pointing outside `xl/`, a
 * part that inflates past its limit (counted while inflating, whatever the header claims),
 * a DTD or entity declaration, too many rows or columns: each is a `TableFileError`.
 */
import SaxLtx from "ltx/src/parsers/ltx.js";
import { PassThrough } from "node:stream";
import openDirectory from "unzipper/lib/Open/directory.js";
import { TABLE_LIMITS, TableFileError } from "./table-file.ts";

interface ZipEntry {
  path: string;
  type: string;
  uncompressedSize: number;
  stream(): NodeJS.ReadableStream;
}

/** The entry count of the end-of-central-directory record, read before unzipper walks it. */
function entryCount(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65_535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) return view.getUint16(i + 10, true);
  }
  throw new TableFileError("zip_corrupt", "no end of central directory");
}

const isUnsafePath = (p: string) => p.includes("\\") || p.startsWith("/") || /^[A-Za-z]:/.test(p) || p.split("/").includes("..") || p.includes("\0");

/** A relationship target, resolved against the folder of the part that names it, kept inside the archive. */
function resolveTarget(base: string, target: string): string {
  const parts = (target.startsWith("/") ? target.slice(1) : `${base}/${target}`).split("/");
  const out: string[] = [];
  for (const p of parts) {
    if (p === "" || p === ".") continue;
    if (p === "..") {
      if (!out.length) throw new TableFileError("zip_path", target.slice(0, 100));
      out.pop();
    } else out.push(p);
  }
  const path = out.join("/");
  if (isUnsafePath(target.replace(/^\//, "").replace(/\.\.\//g, "")) || !path.startsWith("xl/")) throw new TableFileError("zip_path", target.slice(0, 100));
  return path;
}

class Archive {
  #entries = new Map<string, ZipEntry>();
  #total = 0;

  static async open(bytes: Uint8Array): Promise<Archive> {
    const count = entryCount(bytes);
    if (count > TABLE_LIMITS.zipEntries) throw new TableFileError("zip_bomb", `${count} entries`);
    let dir: { files: ZipEntry[] };
    try {
      // unzipper's `Open.buffer`, without its index module: that one also offers S3 sources
      // and names an AWS SDK that `bun build --compile` would try to bundle.
      const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      dir = await openDirectory({
        stream: (offset: number, length?: number) => new PassThrough().end(buffer.subarray(offset, length ? offset + length : undefined)),
        size: () => Promise.resolve(buffer.length),
      });
    } catch (err) {
      throw new TableFileError("zip_corrupt", (err as Error).message.slice(0, 120));
    }
    const a = new Archive();
    for (const f of dir.files) {
      if (isUnsafePath(f.path)) throw new TableFileError("zip_path", f.path.slice(0, 100));
      a.#entries.set(f.path, f);
    }
    return a;
  }

  has = (path: string) => this.#entries.has(path);

  /** A part's text, inflated with a running count: the limit holds whatever the header says. */
  async text(path: string): Promise<string | null> {
    const entry = this.#entries.get(path);
    if (!entry) return null;
    if (entry.uncompressedSize > TABLE_LIMITS.partBytes) throw new TableFileError("zip_bomb", `${path} declares ${entry.uncompressedSize} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of entry.stream() as AsyncIterable<Buffer>) {
        size += chunk.length;
        this.#total += chunk.length;
        if (size > TABLE_LIMITS.partBytes || this.#total > TABLE_LIMITS.totalBytes) throw new TableFileError("zip_bomb", `${path} inflates past the limit`);
        chunks.push(chunk);
      }
    } catch (err) {
      if (err instanceof TableFileError) throw err;
      throw new TableFileError("zip_corrupt", `${path}: ${(err as Error).message.slice(0, 120)}`);
    }
    return Buffer.concat(chunks).toString("utf8").replace(/^\uFEFF/, "");
  }
}

type Start = (name: string, attrs: Record<string, string>) => void;

/** Streams an XML part through ltx with local names (prefixes dropped); DTDs refused. */
function sax(path: string, xml: string, on: { start?: Start; end?: (name: string) => void; text?: (t: string) => void }): void {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new TableFileError("xml", `${path}: DTDs and entity declarations are not accepted`);
  const p = new SaxLtx();
  const local = (n: string) => n.slice(n.indexOf(":") + 1);
  if (on.start) p.on("startElement", (n: string, a: Record<string, string>) => on.start!(local(n), a));
  if (on.end) p.on("endElement", (n: string) => on.end!(local(n)));
  if (on.text) p.on("text", on.text);
  try {
    p.write(xml);
  } catch (err) {
    if (err instanceof TableFileError) throw err;
    throw new TableFileError("xml", `${path}: ${(err as Error).message.slice(0, 120)}`);
  }
}

const attr = (a: Record<string, string>, name: string) => a[name] ?? Object.entries(a).find(([k]) => k.endsWith(`:${name}`))?.[1];

/** Built-in number formats that show dates or times (ECMA-376 §18.8.30). */
const DATE_FORMATS = new Set([14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51, 52, 53, 54, 55, 56, 57, 58]);

/** Whether a custom format code shows a date: d, m, y, h or s outside quotes, brackets and escapes. */
export function isDateFormat(code: string): boolean {
  const bare = code.replace(/"[^"]*"/g, "").replace(/\[[^\]]*\]/g, "").replace(/\\./g, "").replace(/_.|\*./g, "");
  return /[dmyhs]/i.test(bare) && !/^general$/i.test(bare.trim());
}

/** An Excel serial date as ISO 8601 (date only when there is no time of day). */
export function serialToIso(serial: number, date1904: boolean): string {
  const epoch = date1904 ? Date.UTC(1904, 0, 1) : Date.UTC(1899, 11, 30);
  const ms = Math.round(serial * 86_400_000);
  const d = new Date(epoch + ms);
  if (Number.isNaN(d.getTime())) return String(serial);
  const iso = d.toISOString();
  return ms % 86_400_000 === 0 ? iso.slice(0, 10) : iso.slice(0, 19).replace("T", " ");
}

export function formatNumber(v: string): string {
  const n = Number(v);
  if (!Number.isFinite(n)) return v;
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return n.toFixed(0);
  return String(Number(n.toPrecision(15)));
}

/** "BC" → 54 (0-based column index). */
function columnIndex(ref: string): number | null {
  const letters = /^([A-Z]{1,3})\d*$/i.exec(ref)?.[1];
  if (!letters) return null;
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

async function sharedStrings(a: Archive, path: string): Promise<string[]> {
  const xml = await a.text(path);
  if (xml === null) return [];
  const out: string[] = [];
  let current: string | null = null;
  let inT = false;
  let phonetic = 0;
  sax(path, xml, {
    start: (n) => {
      if (n === "si") current = "";
      else if (n === "rPh") phonetic++;
      else if (n === "t" && phonetic === 0) inT = true;
    },
    end: (n) => {
      if (n === "si") {
        out.push((current ?? "").slice(0, TABLE_LIMITS.cellChars));
        current = null;
        if (out.length > TABLE_LIMITS.rows * TABLE_LIMITS.columns) throw new TableFileError("too_many_rows", "shared strings");
      } else if (n === "rPh") phonetic--;
      else if (n === "t") inT = false;
    },
    text: (t) => {
      if (inT && current !== null && current.length < TABLE_LIMITS.cellChars) current += t;
    },
  });
  return out;
}

async function dateStyles(a: Archive, path: string): Promise<Set<number>> {
  const xml = await a.text(path);
  const dates = new Set<number>();
  if (xml === null) return dates;
  const custom = new Map<number, string>();
  const xfs: number[] = [];
  let inCellXfs = false;
  sax(path, xml, {
    start: (n, at) => {
      if (n === "numFmt") custom.set(Number(at.numFmtId), at.formatCode ?? "");
      else if (n === "cellXfs") inCellXfs = true;
      else if (n === "xf" && inCellXfs) xfs.push(Number(at.numFmtId ?? 0));
    },
    end: (n) => {
      if (n === "cellXfs") inCellXfs = false;
    },
  });
  xfs.forEach((fmt, i) => {
    if (DATE_FORMATS.has(fmt) || (custom.has(fmt) && isDateFormat(custom.get(fmt)!))) dates.add(i);
  });
  return dates;
}

export async function readXlsx(bytes: Uint8Array): Promise<{ rows: string[][]; sheet: string }> {
  const a = await Archive.open(bytes);
  const workbook = await a.text("xl/workbook.xml");
  if (workbook === null) throw new TableFileError("no_sheet", "xl/workbook.xml is missing: not an Excel workbook");
  let first: { name: string; rid: string } | null = null;
  let date1904 = false;
  sax("xl/workbook.xml", workbook, {
    start: (n, at) => {
      if (n === "sheet" && !first) first = { name: at.name ?? "", rid: attr(at, "id") ?? "" };
      if (n === "workbookPr" && (at.date1904 === "1" || at.date1904 === "true")) date1904 = true;
    },
  });
  if (!first) throw new TableFileError("no_sheet", "the workbook lists no sheet");
  const sheet = first as { name: string; rid: string };
  const targets = new Map<string, { type: string; target: string }>();
  const rels = await a.text("xl/_rels/workbook.xml.rels");
  if (rels !== null) {
    sax("xl/_rels/workbook.xml.rels", rels, {
      start: (n, at) => {
        if (n === "Relationship" && at.Id && at.Target) targets.set(at.Id, { type: at.Type ?? "", target: at.Target });
      },
    });
  }
  const byType = (suffix: string) => [...targets.values()].find((t) => t.type.endsWith(suffix))?.target;
  const sheetTarget = targets.get(sheet.rid)?.target;
  const sheetPath = sheetTarget ? resolveTarget("xl", sheetTarget) : "xl/worksheets/sheet1.xml";
  const stringsTarget = byType("/sharedStrings");
  const stylesTarget = byType("/styles");
  const shared = await sharedStrings(a, stringsTarget ? resolveTarget("xl", stringsTarget) : "xl/sharedStrings.xml");
  const dates = await dateStyles(a, stylesTarget ? resolveTarget("xl", stylesTarget) : "xl/styles.xml");
  const xml = await a.text(sheetPath);
  if (xml === null) throw new TableFileError("no_sheet", `${sheetPath} is missing`);

  const rows: string[][] = [];
  let row: string[] | null = null;
  let rowIndex = -1;
  let cell: { col: number; type: string; style: number; v: string; t: string } | null = null;
  let nextCol = 0;
  let reading: "v" | "t" | null = null;
  let phonetic = 0;
  let chars = 0;
  sax(sheetPath, xml, {
    start: (n, at) => {
      if (n === "row") {
        const r = Number(at.r);
        rowIndex = Number.isInteger(r) && r >= 1 ? r - 1 : rowIndex + 1;
        if (rowIndex >= TABLE_LIMITS.rows + 1) throw new TableFileError("too_many_rows", `more than ${TABLE_LIMITS.rows}`);
        row = [];
        nextCol = 0;
      } else if (n === "c" && row) {
        const col = at.r ? columnIndex(at.r) : nextCol;
        if (col === null) throw new TableFileError("xml", `bad cell reference ${String(at.r).slice(0, 20)}`);
        if (col >= TABLE_LIMITS.columns) throw new TableFileError("too_many_columns", `more than ${TABLE_LIMITS.columns}`);
        cell = { col, type: at.t ?? "n", style: Number(at.s ?? 0), v: "", t: "" };
        nextCol = col + 1;
      } else if (n === "v" && cell) reading = "v";
      else if (n === "rPh") phonetic++;
      else if (n === "t" && cell && phonetic === 0) reading = "t";
    },
    end: (n) => {
      if (n === "v" || n === "t") reading = null;
      else if (n === "rPh") phonetic--;
      else if (n === "c" && cell && row) {
        const text = cellText(cell, shared, dates, date1904);
        // Shared strings cost nothing in the file and everything once repeated in cells.
        if ((chars += text.length) > TABLE_LIMITS.tableChars) throw new TableFileError("too_large", `more than ${TABLE_LIMITS.tableChars} characters of cells`);
        row[cell.col] = text;
        cell = null;
      } else if (n === "row" && row) {
        while (rows.length < rowIndex) rows.push([]);
        rows[rowIndex] = Array.from({ length: row.length }, (_, i) => row![i] ?? "");
        row = null;
      }
    },
    text: (t) => {
      if (!cell || !reading) return;
      if (reading === "v") cell.v += t;
      else if (cell.t.length < TABLE_LIMITS.cellChars) cell.t += t;
    },
  });
  // Blank rows stay (as []) so that row numbers are the spreadsheet's; trailing ones go.
  const cleaned = rows.map((r) => (r ?? []).map((c) => c.trim().slice(0, TABLE_LIMITS.cellChars)));
  while (cleaned.length && cleaned.at(-1)!.every((c) => c === "")) cleaned.pop();
  if (!cleaned.some((r) => r.some((c) => c !== ""))) throw new TableFileError("empty");
  return { rows: cleaned.map((r) => (r.every((c) => c === "") ? [] : r)), sheet: sheet.name };
}

function cellText(c: { type: string; style: number; v: string; t: string }, shared: string[], dates: Set<number>, date1904: boolean): string {
  switch (c.type) {
    case "s": {
      const i = Number(c.v);
      return Number.isInteger(i) && i >= 0 && i < shared.length ? shared[i]! : "";
    }
    case "inlineStr":
      return c.t;
    case "str":
    case "e":
      return c.v || c.t;
    case "b":
      return c.v === "1" ? "TRUE" : "FALSE";
    case "d":
      return c.v;
    default: {
      if (c.v === "") return "";
      const n = Number(c.v);
      if (dates.has(c.style) && Number.isFinite(n)) return serialToIso(n, date1904);
      return formatNumber(c.v);
    }
  }
}
