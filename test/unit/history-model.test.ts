import { describe, expect, test } from "bun:test";
import { BadRequest, Invalid } from "../../src/errors.ts";
import { emptyInput, filterQuery, parseFilter, parsePage, readInput, type FilterInput } from "../../src/features/history/model.ts";
import { formatForReader, formatInput, formatSortable, parseLocalDateTime } from "../../src/features/history/time.ts";

const paris = "Europe/Paris";
const input = (over: Partial<FilterInput>): FilterInput => ({ ...emptyInput, ...over });
const fieldsOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof Invalid) return err.fields;
    throw err;
  }
  return null;
};

describe("dates in the appliance's time zone", () => {
  test("a datetime-local value is a wall-clock time there, summer or winter", () => {
    expect(parseLocalDateTime("2026-06-01T14:00", paris)).toEqual({ at: Date.UTC(2026, 5, 1, 12), precisionMs: 60_000 });
    expect(parseLocalDateTime("2026-01-15T14:00:30", paris)).toEqual({ at: Date.UTC(2026, 0, 15, 13, 0, 30), precisionMs: 1_000 });
    expect(parseLocalDateTime("2026-06-01 14:00", "UTC")).toEqual({ at: Date.UTC(2026, 5, 1, 14), precisionMs: 60_000 });
    expect(parseLocalDateTime("2026-06-01T14:00", "America/New_York")!.at).toBe(Date.UTC(2026, 5, 1, 18));
  });

  test("around clock changes: the earlier of a repeated time, the old offset inside a skipped one", () => {
    // 2026-10-25 02:30 happens twice in Paris (CEST, then CET).
    expect(parseLocalDateTime("2026-10-25T02:30", paris)!.at).toBe(Date.UTC(2026, 9, 25, 0, 30));
    // 2026-03-29 02:30 does not exist in Paris: read as CET, it is 03:30 CEST.
    expect(parseLocalDateTime("2026-03-29T02:30", paris)!.at).toBe(Date.UTC(2026, 2, 29, 1, 30));
  });

  test("impossible or malformed values are refused", () => {
    for (const bad of ["2026-02-30T10:00", "2026-13-01T00:00", "2026-06-01T24:00", "2026-06-01T10:60", "2026-06-01", "1er juin", "2026-06-01T10:00:00.5", "1969-12-31T23:59"]) {
      expect({ bad, parsed: parseLocalDateTime(bad, paris) }).toEqual({ bad, parsed: null });
    }
  });

  test("formats: sortable for exports, localized for readers, datetime-local for fields", () => {
    const summer = Date.UTC(2026, 5, 1, 12, 5, 9);
    const winter = Date.UTC(2026, 11, 24, 23, 30);
    expect([formatSortable(summer, paris), formatSortable(winter, paris), formatSortable(winter, "UTC")]).toEqual(["2026-06-01 14:05:09", "2026-12-25 00:30:00", "2026-12-24 23:30:00"]);
    expect(formatForReader(summer, paris, "fr")).toBe("1 juin 2026, 14:05:09");
    expect(formatForReader(summer, paris, "en")).toBe("1 Jun 2026, 14:05:09");
    expect([formatInput(summer, paris), formatInput(winter, paris)]).toEqual(["2026-06-01T14:05:09", "2026-12-25T00:30"]);
  });
});

describe("filters from a query string", () => {
  test("a valid filter: the end bound includes the whole minute (or second) typed", () => {
    const f = parseFilter(input({ module: "imaging", start: "2026-04-14T00:00", end: "2026-04-14T23:59", criterion: "newmachine", q: "  guacamole " }), "UTC");
    expect(f).toEqual({ module: "imaging", from: Date.UTC(2026, 3, 14), to: Date.UTC(2026, 3, 15), criterion: "newmachine", search: "guacamole" });
    expect(parseFilter(input({ end: "2026-04-14T23:59:59" }), "UTC").to).toBe(Date.UTC(2026, 3, 15));
    expect(parseFilter(input({ start: "2026-04-14T10:00", end: "2026-04-14T10:00" }), "UTC").to).toBe(Date.UTC(2026, 3, 14, 10, 1));
    expect(parseFilter(emptyInput, "UTC")).toEqual({ module: null, from: null, to: null, criterion: null, search: "" });
  });

  test("every wrong field is named at once", () => {
    expect(fieldsOf(() => parseFilter(input({ module: "printers", start: "soon", criterion: "all", q: "x".repeat(201), size: "20" }), "UTC"))).toEqual({
      module: "history.error.module",
      start: "history.error.date",
      criterion: "history.error.criterion",
      q: "history.error.search",
      size: "history.error.size",
    });
    expect(fieldsOf(() => parseFilter(input({ start: "2026-05-02T00:00", end: "2026-05-01T00:00" }), "UTC"))).toEqual({ end: "history.error.endBeforeStart" });
    for (const size of ["010", "25.0", "-10", "1e2"]) expect(fieldsOf(() => parseFilter(input({ size }), "UTC"))).toEqual({ size: "history.error.size" });
  });

  test("reading the query keeps strings only and bounds their length", () => {
    expect(readInput({ module: "auth", q: "y".repeat(5000), size: undefined })).toEqual({ ...emptyInput, module: "auth", q: "y".repeat(1000) });
  });

  test("cursors: after or before `<at>.<id>`; anything else is a bad request", () => {
    expect(parsePage(input({ size: "50" }), { after: "1780315200000.42" })).toEqual({ size: 50, cursor: { dir: "after", at: 1780315200000, id: 42 } });
    expect(parsePage(emptyInput, { before: "5.6" })).toEqual({ size: 25, cursor: { dir: "before", at: 5, id: 6 } });
    expect(parsePage(emptyInput, {})).toEqual({ size: 25, cursor: null });
    for (const bad of ["5", "a.b", "5.6.7", "-1.2", "1.2 OR 1=1"]) expect(() => parsePage(emptyInput, { after: bad })).toThrow(BadRequest);
  });

  test("the query string of a filter leaves out empty and default values", () => {
    expect(filterQuery(emptyInput)).toBe("");
    expect(filterQuery(input({ module: "auth", q: "a b&c", size: "25" }), { after: "1.2" })).toBe("?module=auth&q=a+b%26c&after=1.2");
    expect(filterQuery(input({ start: "2026-04-14T00:00", size: "100" }))).toBe("?start=2026-04-14T00%3A00&size=100");
  });
});
