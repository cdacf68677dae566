/**
 * Group import files: the committed fixtures (a workbook written by LibreOffice with
 * shared strings, dates and empty cells; one written by a streaming-style writer with
 * inline strings, the 1904 date system, missing cells, booleans and a formula result;
 * CSV in UTF-8 and in Windows-1252 with semicolons) read to the cells a person sees, and
 * hostile or wrong files refused with their reason; then rows matched to machines.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { matchRows } from "../../src/features/machine-groups/import.ts";
import { parseCsv, readTableFile, TableFileError } from "../../src/features/machine-groups/table-file.ts";
import { isDateFormat, serialToIso } from "../../src/features/machine-groups/xlsx.ts";
import { testApp } from "../support/app.ts";

const dir = join(import.meta.dir, "../fixtures/machine-groups");
const fixture = (name: string) => new Uint8Array(readFileSync(join(dir, name)));

async function problem(bytes: Uint8Array): Promise<string> {
  try {
    await readTableFile(bytes);
  } catch (e) {
    if (e instanceof TableFileError) return e.problem;
    throw e;
  }
  return "read";
}

describe("reading files", () => {
  test("a workbook written by LibreOffice: shared strings, a date column, empty cells", async () => {
    const t = await readTableFile(fixture("parc-libreoffice.xlsx"));
    expect(t.format).toBe("xlsx");
    expect(t.rows[0]).toEqual(["Nom du poste", "Numéro de série", "Adresse MAC", "N° inventaire", "Utilisateur", "Système", "Date d'achat", "Remarque"]);
    expect(t.rows[1]).toEqual(["PC-COMPTA-01", "CZC1234ABC", "00:1A:2B:3C:4D:01", "INV-0001", "mdupont", "Windows 11 Pro", "2023-03-15"]);
    expect(t.rows[2]).toEqual(["PC-COMPTA-02", "CZC1234ABD", "00-1A-2B-3C-4D-02", "INV-0002", "", "Windows 11 Pro", "2023-03-15", "à remplacer"]);
    expect(t.rows[3]).toEqual(["LAB-07", "", "", "INV-0007", "jmartin", "Debian GNU/Linux 12", "2021-11-02"]);
    expect(t.rows[5]).toEqual(["", "", "00:1A:2B:3C:4D:99"]);
    expect(t.rows.length).toBe(6);
  });

  test("the same table as CSV (UTF-8, semicolons) reads the same", async () => {
    const t = await readTableFile(fixture("parc-libreoffice.csv"));
    expect(t.format).toBe("csv");
    expect(t.rows[2]).toEqual(["PC-COMPTA-02", "CZC1234ABD", "00-1A-2B-3C-4D-02", "INV-0002", "", "Windows 11 Pro", "2023-03-15", "à remplacer"]);
  });

  test("a workbook with inline strings, 1904 dates, missing cells, booleans and a formula", async () => {
    const t = await readTableFile(fixture("parc-inline-strings.xlsx"));
    expect(t.sheet).toBe("Inventaire");
    expect(t.rows).toEqual([
      ["Machine", "Serial", "MAC address", "Purchased", "Active", "Note"],
      ["pc-compta-01", "CZC1234ABC", "", "2024-03-15", "TRUE", "R&D <lab>"],
      ["LAB-07", "", "", "2024-03-15 12:00:00", "FALSE", "LAB-07!"],
      [],
      ["", "123456789012", "00:1a:2b:3c:4d:02"],
    ]);
  });

  test("Windows-1252 CSV as Excel writes it in France", async () => {
    const t = await readTableFile(fixture("parc-excel-fr.csv"));
    expect(t.rows).toEqual([["Nom", "Série"], ["PC-COMPTA-01", "CZC1234ABC"], ["LAB-07", ""]]);
  });

  test("CSV quoting: separators, quotes and line breaks inside quotes; CR LF; tabs", () => {
    expect(parseCsv('a,"b,c","say ""hi""","two\nlines"\r\nd,e,f,g\r\n')).toEqual([["a", "b,c", 'say "hi"', "two\nlines"], ["d", "e", "f", "g"]]);
    expect(parseCsv("x\ty\n1\t2\n")).toEqual([["x", "y"], ["1", "2"]]);
  });

  const refusals: [string, Uint8Array | (() => Uint8Array), string][] = [
    ["an entry name that leaves the archive", () => fixture("hostile-path.xlsx"), "zip_path"],
    ["a relationship pointing outside xl/", () => fixture("hostile-target.xlsx"), "zip_path"],
    ["a part that inflates to 80 MB", () => fixture("hostile-bomb.xlsx"), "zip_bomb"],
    ["a DTD with entities", () => fixture("hostile-dtd.xlsx"), "xml"],
    ["20,001 rows", () => fixture("too-many-rows.xlsx"), "too_many_rows"],
    ["one long shared string repeated in 20,000 cells", () => fixture("hostile-repeated-string.xlsx"), "too_large"],
    ["an old .xls", () => fixture("old-format.xls"), "xls"],
    ["a PDF", new TextEncoder().encode("%PDF-1.7\n%\u00e2\u00e3\n1 0 obj\n"), "not_table"],
    ["an image", new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), "not_table"],
    ["an empty file", new Uint8Array(0), "empty"],
    ["only blank lines", new TextEncoder().encode("\n\n ;; \n"), "empty"],
    ["a truncated zip", () => fixture("parc-libreoffice.xlsx").subarray(0, 1500), "zip_corrupt"],
    ["a zip that is not a workbook", () => fixture("parc-libreoffice.xlsx").subarray(0, 4), "zip_corrupt"],
    ["too many columns", new TextEncoder().encode(Array.from({ length: 70 }, (_, i) => `c${i}`).join(",")), "too_many_columns"],
    ["larger than 10 MB", new Uint8Array(11 * 1024 * 1024).fill(0x41), "too_large"],
  ];
  for (const [name, input, expected] of refusals) {
    test(`refused: ${name}`, async () => {
      expect(await problem(typeof input === "function" ? input() : input)).toBe(expected);
    });
  }

  test("date formats and serials", () => {
    expect(isDateFormat("dd/mm/yyyy")).toBe(true);
    expect(isDateFormat('yyyy\\-mm\\-dd')).toBe(true);
    expect(isDateFormat("0.00")).toBe(false);
    expect(isDateFormat('"days"0')).toBe(false);
    expect(isDateFormat("[Red]0.00")).toBe(false);
    expect(serialToIso(45366, false)).toBe("2024-03-15");
    expect(serialToIso(43904, true)).toBe("2024-03-15");
  });
});

describe("matching rows to machines", () => {
  function fleet() {
    const t = testApp();
    const add = (h: string, o: { serial?: string; mac?: string; tag?: string; user?: string; os?: string; entity?: number } = {}) => {
      const id = (t.db.query("INSERT INTO machines (hostname, serial, logged_user, os_name, entity_id, created_at, updated_at) VALUES ($h, $s, $u, $os, $e, 0, 0) RETURNING id")
        .get({ h, s: o.serial ?? "", u: o.user ?? "", os: o.os ?? "", e: o.entity ?? 1 }) as { id: number }).id;
      if (o.mac) t.db.query("INSERT INTO machine_macs (mac, machine_id) VALUES ($m, $id)").run({ m: o.mac, id });
      if (o.tag) t.db.query("INSERT INTO inv_bios (machine_id, asset_tag) VALUES ($id, $t)").run({ id, t: o.tag });
      return id;
    };
    const ids = {
      compta1: add("PC-COMPTA-01.corp.example", { serial: "CZC1234ABC", mac: "00:1a:2b:3c:4d:01", tag: "INV-0001", user: "mdupont", os: "Windows 11 Pro" }),
      compta2: add("PC-COMPTA-02", { serial: "CZC1234ABD", mac: "00:1a:2b:3c:4d:02", tag: "INV-0002", os: "Windows 11 Pro" }),
      lab: add("LAB-07", { tag: "INV-0007", user: "jmartin", os: "Debian GNU/Linux 12" }),
      twin1: add("TWIN", { mac: "00:1a:2b:3c:4d:99" }),
      twin2: add("twin", { mac: "00:1a:2b:3c:4d:99" }),
    };
    return { t, ids };
  }

  test("the LibreOffice workbook: each row matched or listed with its reason", async () => {
    const { t, ids } = fleet();
    const table = await readTableFile(fixture("parc-libreoffice.xlsx"));
    const out = matchRows(t.db, table, ["hostname", "serial", "mac", "assetTag", "user", "osName", "ignore", "ignore"], true, [1]);
    expect(out.rows.map((r) => [r.row, r.machineId, r.reason?.key ?? null])).toEqual([
      [2, ids.compta1, null],
      [3, ids.compta2, null],
      [4, ids.lab, null],
      [5, null, "mgroups.reason.notFound"],
      [6, null, "mgroups.reason.ambiguous"],
    ]);
    expect(out.matched).toEqual([ids.compta1, ids.compta2, ids.lab]);
    expect(out.bad).toBe(2);
  });

  test("the inline-string workbook, by name and MAC; duplicates and checks", async () => {
    const { t, ids } = fleet();
    const table = await readTableFile(fixture("parc-inline-strings.xlsx"));
    const out = matchRows(t.db, table, ["hostname", "ignore", "mac", "ignore", "ignore", "ignore"], true, [1]);
    expect(out.rows.map((r) => [r.machineId, r.reason?.key ?? null])).toEqual([[ids.compta1, null], [ids.lab, null], [ids.compta2, null]]);
    const bad = matchRows(t.db, { format: "csv", rows: [["PC-COMPTA-02", "zz:zz", "Linux"], ["PC-COMPTA-02", "", "Windows"], ["LAB-07", "", "Windows"]] }, ["hostname", "mac", "osName"], false, [1]);
    expect(bad.rows.map((r) => [r.reason?.key ?? null, r.duplicateOf])).toEqual([["mgroups.reason.badMac", null], [null, null], ["mgroups.reason.mismatch", null]]);
  });

  test("machines outside the importer's entities are not candidates; a mapping needs an identifying column", () => {
    const { t } = fleet();
    const table = { format: "csv" as const, rows: [["LAB-07"]] };
    expect(matchRows(t.db, table, ["hostname"], false, [999]).rows[0]!.reason?.key).toBe("mgroups.reason.notFound");
    // A short name matches its FQDN, and LIKE wildcards in a name are literal.
    expect(matchRows(t.db, { format: "csv", rows: [["pc-compta-01"], ["PC_COMPTA-01"], ["%"]] }, ["hostname"], false, [1]).rows.map((r) => r.reason?.key ?? r.hostname))
      .toEqual(["PC-COMPTA-01.corp.example", "mgroups.reason.notFound", "mgroups.reason.notFound"]);
    expect(() => matchRows(t.db, table, ["osName"], false, [1])).toThrow();
    expect(() => matchRows(t.db, table, ["hostname", "hostname"], false, [1])).toThrow();
  });
});
