import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { BOM, csvCell, csvLine, csvStream } from "../../src/features/history/csv.ts";
import { toWinAnsi } from "../../src/features/history/pdf-metrics.ts";
import { MAX_CELL_LINES, tablePdf, wrap, type PdfTable } from "../../src/features/history/pdf.ts";

/** The text of a PDF as poppler's pdftotext reads it (what a real reader shows). */
function pdfText(bytes: Uint8Array, layout = false): string {
  const dir = mkdtempSync(join(tmpdir(), "medulla-pdf-"));
  try {
    const file = join(dir, "t.pdf");
    Bun.write(file, bytes);
    const run = Bun.spawnSync(["pdftotext", "-enc", "UTF-8", ...(layout ? ["-layout"] : []), file, "-"], { stderr: "pipe" });
    expect({ code: run.exitCode, err: run.stderr.toString() }).toEqual({ code: 0, err: "" });
    return run.stdout.toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function table(rows: string[][], extra: Partial<PdfTable> = {}): PdfTable {
  return {
    title: "Historique Medulla",
    lines: ["Module : Tous mes modules"],
    columns: [{ header: "Date", weight: 2 }, { header: "Texte", weight: 6 }, { header: "Cible", weight: 2 }],
    rows,
    pageLabel: (page, pages) => `Page ${page} / ${pages}`,
    ...extra,
  };
}

describe("CSV (RFC 4180)", () => {
  test("quotes only what needs it and doubles quotes", () => {
    expect(csvLine(["plain", "a,b", 'say "hi"', "two\r\nlines", "lf\nonly", ""])).toBe('plain,"a,b","say ""hi""","two\r\nlines","lf\nonly",\r\n');
  });

  test("cells a spreadsheet would run as a formula start with a quote", () => {
    expect(["=1+1", "+33 6 12", "-2", "@SUM(A1)", "\tx", "\rx", "a=b"].map(csvCell)).toEqual(["'=1+1", "'+33 6 12", "'-2", "'@SUM(A1)", "'\tx", "\"'\rx\"", "a=b"]);
    expect(csvCell('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`);
  });

  test("the stream starts with a BOM and the header, then each batch, then the trailer", async () => {
    const batches = [[["1", "é"]], [["2", "ü"], ["3", "中文"]]];
    const text = await new Response(csvStream(["n", "texte"], () => batches.shift() ?? [], () => ["", "fin"])).text();
    // Response.text() drops a leading BOM, as browsers do; the bytes carry it.
    expect(text).toBe("n,texte\r\n1,é\r\n2,ü\r\n3,中文\r\n,fin\r\n");
    const bytes = new Uint8Array(await new Response(csvStream(["n"], () => [])).arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(BOM).toBe("\uFEFF");
  });
});

describe("PDF writer", () => {
  test("French text, the title, the filters, the header and page numbers come out of a real reader", () => {
    const rows = Array.from({ length: 120 }, (_, i) => [`2026-06-01 12:${String(i % 60).padStart(2, "0")}:00`, `Connexion réussie de zoé n°${i} — « déjà vu »…`, `PC-${i}`]);
    const bytes = tablePdf(table(rows));
    expect(new TextDecoder().decode(bytes.slice(0, 8))).toBe("%PDF-1.4");
    const text = pdfText(bytes);
    const pages = Number(/Page 1 \/ (\d+)/.exec(text)?.[1]);
    expect(pages).toBeGreaterThan(1);
    expect(text).toContain("Historique Medulla");
    expect(text).toContain("Module : Tous mes modules");
    expect(text).toContain("Connexion réussie de zoé n°0 — « déjà vu »…");
    expect(text).toContain("Connexion réussie de zoé n°119 — « déjà vu »…");
    expect(text).toContain(`Page ${pages} / ${pages}`);
    // The table header is repeated on every page.
    expect(text.split("Texte").length - 1).toBe(pages);
    expect(text.split("\f").filter((p) => p.trim()).length).toBe(pages);
  });

  test("hostile text: parentheses, backslashes, non-Latin characters, control characters", () => {
    const hostile = ["(a) \\ b) ((", "中文 and Ελληνικά and emoji 😀", "tab\there\u0000nul\u0007bell", "ŐŰ ăș Ÿœ €", ") Tj ET BT /F1 99 Tf (pwned"];
    const bytes = tablePdf(table(hostile.map((h) => ["x", h, "y"]), { title: "Titre (avec) \\ parenthèses" }));
    const text = pdfText(bytes);
    expect(text).toContain("(a) \\ b) ((");
    expect(text).toContain("?? and ???????? and emoji ?");
    expect(text).toContain("tab here nul bell");
    expect(text).toContain("OU as Ÿœ €");
    expect(text).toContain(") Tj ET BT /F1 99 Tf (pwned");
    // The content streams hold only printable ASCII: every other byte went through an escape.
    const streams = Buffer.from(bytes).toString("binary").match(/stream\n([\s\S]*?)\nendstream/g)!.map((s) => s.slice(7, -10));
    expect(streams.length).toBe(1);
    for (const s of streams) {
      const ops = inflateSync(Buffer.from(s, "binary")).toString("binary");
      expect(ops).toMatch(/^[\x20-\x7e\n]*$/);
    }
  });

  test("very long cells are wrapped, cut to a few lines with an ellipsis, and cost no more than short ones", () => {
    const long = "mot ".repeat(2000) + "x".repeat(1_000_000);
    const started = performance.now();
    const bytes = tablePdf(table([["a", long, "y".repeat(500)], ["b", "fin", "z"]]));
    expect(performance.now() - started).toBeLessThan(2000);
    const text = pdfText(bytes);
    expect(text).toContain("fin");
    expect(text).toContain("…");
    expect(text).not.toContain("x".repeat(200));
    const lines = wrap(toWinAnsi(long.slice(0, 20_000)), "F1", 7.5, 300, MAX_CELL_LINES);
    expect(lines.length).toBe(MAX_CELL_LINES);
    expect(lines.at(-1)!.endsWith("\x85")).toBe(true);
    expect(wrap(toWinAnsi("x".repeat(500)), "F1", 7.5, 100, 10).slice(0, 2).map((l) => l.length)).toEqual([26, 26]);
    expect(wrap("", "F1", 7.5, 100, 4)).toEqual([]);
  });

  test("an empty table and a note still make a valid one-page file whose xref points at its objects", () => {
    const bytes = tablePdf(table([], { note: "Export limité aux 20 000 premières entrées" }));
    const text = pdfText(bytes);
    expect(text).toContain("Export limité aux 20 000 premières entrées");
    expect(text).toContain("Page 1 / 1");
    const raw = Buffer.from(bytes).toString("binary");
    const xrefAt = Number(/startxref\n(\d+)/.exec(raw)![1]);
    expect(raw.slice(xrefAt, xrefAt + 4)).toBe("xref");
    const offsets = [...raw.slice(xrefAt).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]));
    offsets.forEach((off, i) => expect(raw.slice(off, off + 10)).toStartWith(`${i + 1} 0 obj`));
  });

  test("WinAnsi mapping: Latin-1 as is, the 0x80–0x9F specials, accents dropped when missing, else ?", () => {
    expect(toWinAnsi("é€œ’…–")).toBe("\xe9\x80\x9c\x92\x85\x96");
    expect(toWinAnsi("ąčř")).toBe("acr");
    expect(toWinAnsi("Ж😀")).toBe("??");
    expect(toWinAnsi("a\nb\u202fc")).toBe("a b c");
  });
});
