/**
 * @module history/pdf
 * A small PDF 1.4 writer for one thing: a table on landscape A4 pages (SPEC L4). It uses
 * the standard Helvetica fonts in WinAnsiEncoding, which every reader has, so nothing is
 * embedded and French accents come out right; other characters are approximated or "?".
 * The first page carries the title and the lines given (the filters used); every page
 * repeats the table header and carries "page n of N". Cells wrap at spaces, long words
 * are cut, and a cell taller than `MAX_CELL_LINES` ends with "…". Pure: bytes in, bytes out.
 */
import { deflateSync } from "node:zlib";
import { HELVETICA, HELVETICA_BOLD, toWinAnsi, widthOf } from "./pdf-metrics.ts";

export interface PdfColumn {
  header: string;
  /** Share of the table's width (any positive numbers; they are normalised). */
  weight: number;
}

export interface PdfTable {
  title: string;
  /** Lines under the title on the first page: the filters used, the time of the export. */
  lines: readonly string[];
  columns: readonly PdfColumn[];
  rows: readonly (readonly string[])[];
  /** Shown after the last row, e.g. why the table stops short. */
  note?: string;
  /** The footer of each page, e.g. `Page 2 / 9`. */
  pageLabel(page: number, pages: number): string;
}

const PAGE_W = 842;
const PAGE_H = 595;
const MARGIN = 36;
const CELL_SIZE = 7.5;
const LINE_H = 9;
const PAD = 3;
export const MAX_CELL_LINES = 4;
const ELLIPSIS = "\x85";
// Far more than a cell can show (4 lines of the narrowest glyph across the page): the rest is never encoded.
const MAX_CELL_CHARS = 4000;

type Font = "F1" | "F2";
const widths = (font: Font) => (font === "F1" ? HELVETICA : HELVETICA_BOLD);

/** PDF literal string of WinAnsi codes: only printable ASCII inside, the rest as octal escapes. */
function literal(encoded: string): string {
  let out = "(";
  for (let i = 0; i < encoded.length; i++) {
    const c = encoded.charCodeAt(i);
    if (c === 0x28 || c === 0x29 || c === 0x5c) out += `\\${encoded[i]}`;
    else if (c < 0x20 || c > 0x7e) out += `\\${c.toString(8).padStart(3, "0")}`;
    else out += encoded[i];
  }
  return `${out})`;
}

/** How many characters of `word` fit in `width` (at least one, so a line always advances). */
function fitChars(word: string, font: Font, size: number, width: number): number {
  const w = widths(font);
  let used = 0;
  let n = 0;
  for (; n < word.length; n++) {
    used += ((w[word.charCodeAt(n) - 32] ?? 0) * size) / 1000;
    if (used > width) break;
  }
  return Math.max(n, 1);
}

// The narrowest glyph (the straight quote, 191/1000): no line holds more characters than this allows.
const NARROWEST = 0.191;

/** `text` (already WinAnsi) in lines no wider than `width`, at most `maxLines`, the last ending in "…" if cut. */
export function wrap(text: string, font: Font, size: number, width: number, maxLines: number): string[] {
  const fits = (s: string) => widthOf(s, widths(font), size) <= width;
  // More than this cannot be shown: a megabyte cell costs no more than a short one.
  const limit = maxLines * Math.ceil(width / (NARROWEST * size)) + 1;
  const words = text.slice(0, limit).split(" ").filter((w) => w !== "");
  const lines: string[] = [];
  let line = "";
  for (let word of words) {
    if (lines.length > maxLines) break;
    const candidate = line ? `${line} ${word}` : word;
    if (fits(candidate)) {
      line = candidate;
      continue;
    }
    if (line) lines.push(line);
    while (!fits(word) && lines.length <= maxLines) {
      const n = fitChars(word, font, size, width);
      lines.push(word.slice(0, n));
      word = word.slice(n);
    }
    line = word;
  }
  if (line) lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  let last = kept[maxLines - 1]!;
  while (last.length > 0 && !fits(last + ELLIPSIS)) last = last.slice(0, -1);
  kept[maxLines - 1] = last.trimEnd() + ELLIPSIS;
  return kept;
}

class Page {
  readonly ops: string[] = [];
  text(font: Font, size: number, x: number, y: number, encoded: string): void {
    this.ops.push(`BT /${font} ${size} Tf 1 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)} Tm ${literal(encoded)} Tj ET`);
  }
  rect(x: number, y: number, w: number, h: number, gray: number): void {
    this.ops.push(`${gray} g ${x.toFixed(2)} ${y.toFixed(2)} ${w.toFixed(2)} ${h.toFixed(2)} re f 0 g`);
  }
  hline(x1: number, x2: number, y: number): void {
    this.ops.push(`0.8 G 0.4 w ${x1.toFixed(2)} ${y.toFixed(2)} m ${x2.toFixed(2)} ${y.toFixed(2)} l S`);
  }
}

/** Lays the table out on as many pages as it needs and returns the PDF file. */
export function tablePdf(doc: PdfTable): Uint8Array<ArrayBuffer> {
  const tableW = PAGE_W - 2 * MARGIN;
  const total = doc.columns.reduce((s, c) => s + c.weight, 0) || 1;
  const colW = doc.columns.map((c) => (c.weight / total) * tableW);
  const colX = colW.map((_, i) => MARGIN + colW.slice(0, i).reduce((s, w) => s + w, 0));
  const pages: Page[] = [];
  let page!: Page;
  let y = 0;

  const cellLines = (cells: readonly string[], font: Font) =>
    colW.map((w, i) => wrap(toWinAnsi((cells[i] ?? "").slice(0, MAX_CELL_CHARS)), font, CELL_SIZE, w - 2 * PAD, MAX_CELL_LINES));
  const drawRow = (lines: string[][], font: Font, shade: number | null) => {
    const h = Math.max(1, ...lines.map((l) => l.length)) * LINE_H + 2 * PAD;
    if (shade !== null) page.rect(MARGIN, y - h, tableW, h, shade);
    lines.forEach((cell, i) => cell.forEach((l, j) => page.text(font, CELL_SIZE, colX[i]! + PAD, y - PAD - CELL_SIZE - j * LINE_H, l)));
    y -= h;
    page.hline(MARGIN, MARGIN + tableW, y);
  };
  const header = cellLines(doc.columns.map((c) => c.header), "F2");
  const newPage = () => {
    page = new Page();
    pages.push(page);
    y = PAGE_H - MARGIN;
    if (pages.length === 1) {
      for (const l of wrap(toWinAnsi(doc.title), "F2", 14, tableW, 2)) {
        page.text("F2", 14, MARGIN, y - 14, l);
        y -= 18;
      }
      for (const line of doc.lines) {
        for (const l of wrap(toWinAnsi(line), "F1", 8.5, tableW, 3)) {
          page.text("F1", 8.5, MARGIN, y - 10, l);
          y -= 11;
        }
      }
      y -= 8;
    }
    drawRow(header, "F2", 0.9);
  };

  newPage();
  doc.rows.forEach((cells, index) => {
    const lines = cellLines(cells, "F1");
    const h = Math.max(1, ...lines.map((l) => l.length)) * LINE_H + 2 * PAD;
    if (y - h < MARGIN + 14) newPage();
    drawRow(lines, "F1", index % 2 === 1 ? 0.96 : null);
  });
  if (doc.note) {
    if (y - 24 < MARGIN + 14) newPage();
    for (const l of wrap(toWinAnsi(doc.note), "F2", 8.5, tableW, 3)) {
      page.text("F2", 8.5, MARGIN, y - 14, l);
      y -= 11;
    }
  }
  pages.forEach((p, i) => {
    const label = toWinAnsi(doc.pageLabel(i + 1, pages.length));
    p.text("F1", 8, PAGE_W - MARGIN - widthOf(label, HELVETICA, 8), MARGIN - 14, label);
    p.text("F1", 8, MARGIN, MARGIN - 14, wrap(toWinAnsi(doc.title), "F1", 8, tableW / 2, 1)[0] ?? "");
  });
  return serialize(doc.title, pages);
}

/** The objects, cross-reference table and trailer of the file. */
function serialize(title: string, pages: Page[]): Uint8Array<ArrayBuffer> {
  const chunks: Uint8Array[] = [];
  const offsets: number[] = [];
  let size = 0;
  const push = (bytes: Uint8Array) => {
    chunks.push(bytes);
    size += bytes.length;
  };
  const ascii = (s: string) => push(new TextEncoder().encode(s));
  const object = (n: number, body: string, stream?: Uint8Array) => {
    offsets[n] = size;
    ascii(`${n} 0 obj\n${body}\n`);
    if (stream) {
      push(stream);
      ascii("\nendstream");
    }
    ascii("\nendobj\n");
  };

  push(new Uint8Array([...new TextEncoder().encode("%PDF-1.4\n%"), 0xe2, 0xe3, 0xcf, 0xd3, 0x0a]));
  const pageIds = pages.map((_, i) => 6 + 2 * i);
  object(1, "<< /Type /Catalog /Pages 2 0 R >>");
  object(2, `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(" ")}] /Count ${pages.length} >>`);
  object(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  object(4, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>");
  object(5, `<< /Title ${utf16Hex(title)} /Producer (Medulla) >>`);
  pages.forEach((p, i) => {
    const id = pageIds[i]!;
    object(id, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${PAGE_W} ${PAGE_H}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents ${id + 1} 0 R >>`);
    const content = deflateSync(new TextEncoder().encode(p.ops.join("\n")));
    object(id + 1, `<< /Length ${content.length} /Filter /FlateDecode >>\nstream`, content);
  });
  const count = 6 + 2 * pages.length;
  const xref = size;
  ascii(`xref\n0 ${count}\n0000000000 65535 f \n`);
  for (let n = 1; n < count; n++) ascii(`${String(offsets[n]).padStart(10, "0")} 00000 n \n`);
  ascii(`trailer\n<< /Size ${count} /Root 1 0 R /Info 5 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A text string in UTF-16BE with its byte-order mark: any title, exactly. */
function utf16Hex(text: string): string {
  let hex = "FEFF";
  for (let i = 0; i < text.length; i++) hex += text.charCodeAt(i).toString(16).padStart(4, "0").toUpperCase();
  return `<${hex}>`;
}
