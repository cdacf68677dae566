import { describe, expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDirs } from "../support/tmp.ts";

const tmp = tempDirs("medulla-logs-");
import { catalogueKeys, t } from "../../src/i18n/index.ts";
import { DailyFileStream, prettyLine } from "../../src/log.ts";
import { parseMeminfo } from "../../src/features/dashboard/general.ts";
import { encodeEvent } from "../../src/web/events.ts";

describe("i18n", () => {
  test("French and English have exactly the same keys, none empty", () => {
    expect(catalogueKeys("en")).toEqual(catalogueKeys("fr"));
    for (const lang of ["fr", "en"] as const) for (const k of catalogueKeys(lang)) expect(t(lang, k as never).length).toBeGreaterThan(0);
  });

  test("placeholders are filled, unknown ones left visible", () => {
    expect(t("fr", "login.throttled", { minutes: 3 })).toBe("Trop de tentatives. Réessayez dans 3 min.");
    expect(t("en", "login.throttled")).toBe("Too many attempts. Try again in {minutes} min.");
  });

  test("every placeholder of a French text exists in its English twin", () => {
    for (const k of catalogueKeys("fr")) {
      const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect([k, names(t("en", k as never))]).toEqual([k, names(t("fr", k as never))]);
    }
  });
});

describe("logging", () => {
  test("console lines are readable", () => {
    const line = prettyLine(JSON.stringify({ level: 30, time: Date.UTC(2026, 0, 1, 8, 5, 9), msg: "request", req: "abc", status: 200 }));
    expect(line).toBe("08:05:09 INFO  request req=abc status=200\n");
    expect(prettyLine("not json")).toBe("not json");
  });

  test("log files are one a day and the oldest are pruned", () => {
    const dir = tmp();
    for (let d = 1; d <= 5; d++) writeFileSync(join(dir, `medulla-2020-01-0${d}.log`), "{}\n");
    const stream = new DailyFileStream(dir, 3);
    stream.write('{"msg":"hello"}\n');
    const files = readdirSync(dir).sort();
    expect(files.length).toBe(3);
    expect(files.at(-1)).toBe(`medulla-${new Date().toISOString().slice(0, 10)}.log`);
  });
});

describe("small parsers", () => {
  test("meminfo", () => {
    expect(parseMeminfo("MemTotal:       16384 kB\nMemFree:  100 kB\nMemAvailable:    8192 kB\n")).toEqual({ total: 16384 * 1024, available: 8192 * 1024 });
    expect(parseMeminfo("garbage")).toBeNull();
  });

  test("server-sent events keep multi-line data in one event", () => {
    expect(encodeEvent("x", "a\nb\r\nc")).toBe("event: x\ndata: a\ndata: b\ndata: c\n\n");
  });
});
