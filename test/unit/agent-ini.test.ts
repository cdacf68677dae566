import { describe, expect, test } from "bun:test";
import { INI_LIMITS, IniWriteError, parseIni, stringifyIni } from "../../agent/src/ini.ts";

const codes = (text: string) => parseIni(text).issues.map((i) => [i.line, i.code, i.fatal]);

describe("agent INI parser", () => {
  test("sections, both delimiters, comments, case, trimming", () => {
    const r = parseIni("; top comment\n# another\n[Server]\nURL = https://m.lan:8443\n\n[xmpp]\n  Jid: a@m.lan  \npassword=p;w#d=x:y\n");
    expect(r).toEqual({ data: { server: { url: "https://m.lan:8443" }, xmpp: { jid: "a@m.lan", password: "p;w#d=x:y" } }, issues: [] });
  });

  test("BOM, CRLF and lone CR line ends", () => {
    expect(parseIni("\uFEFF[a]\r\nk=1\r\nj=2\rl=3").data).toEqual({ a: { k: "1", j: "2", l: "3" } });
  });

  test("keys before any section are reported and ignored", () => {
    const r = parseIni("orphan=1\n[a]\nk=v\n");
    expect(r.data).toEqual({ a: { k: "v" } });
    expect(codes("orphan=1\n[a]\nk=v\n")).toEqual([[1, "no_section", false]]);
  });

  test("duplicate keys: the last wins, reported; duplicate sections merge", () => {
    const text = "[a]\nk=1\nk=2\n[b]\nx=1\n[a]\nm=3\n";
    expect(parseIni(text).data).toEqual({ a: { k: "2", m: "3" }, b: { x: "1" } });
    expect(codes(text)).toEqual([
      [3, "duplicate_key", false],
      [6, "duplicate_section", false],
    ]);
  });

  test("malformed lines and headers are fatal issues with line numbers", () => {
    expect(codes("[a]\njust words\n[bad section\n[]\n[a b]\n=v\n")).toEqual([
      [2, "malformed_line", true],
      [3, "bad_section", true],
      [4, "bad_section", true],
      [5, "bad_section", true],
      [6, "empty_key", true],
    ]);
  });

  test("huge lines, huge files and too many keys are bounded", () => {
    expect(codes(`[a]\nk=${"x".repeat(INI_LIMITS.maxLineLength)}\n`)).toEqual([[2, "line_too_long", true]]);
    expect(codes("x".repeat(INI_LIMITS.maxBytes + 1))).toEqual([[0, "too_large", true]]);
    const many = `[a]\n${Array.from({ length: INI_LIMITS.maxKeys + 5 }, (_, i) => `k${i}=v`).join("\n")}`;
    expect(parseIni(many).issues.at(-1)?.code).toBe("too_many_keys");
  });

  test("hostile names do not reach the prototype", () => {
    const r = parseIni("[__proto__]\nconstructor=1\n[a]\n__proto__=x\n");
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
    expect(Object.getPrototypeOf(r.data)).toBeNull();
    expect(r.data.a!["__proto__"]).toBe("x");
  });

  test("NUL and control characters stay inside values without breaking lines", () => {
    expect(parseIni("[a]\nk=a\u0000b\u000bc\n").data).toEqual({ a: { k: "a\u0000b\u000bc" } });
  });

  test("write then read gives the same data", () => {
    const data = { server: { url: "https://m:8443", cafingerprint: `sha256:${"ab".repeat(32)}` }, xmpp: { password: "a=b;c#d:e" } };
    const text = stringifyIni(data, ["header"]);
    expect(text.startsWith("; header\n\n[server]\n")).toBe(true);
    expect(parseIni(text)).toEqual({ data, issues: [] });
  });

  test("the writer refuses what would not read back the same", () => {
    expect(() => stringifyIni({ a: { k: "line\nbreak" } })).toThrow(IniWriteError);
    expect(() => stringifyIni({ a: { k: " padded" } })).toThrow(IniWriteError);
    expect(() => stringifyIni({ "a]": { k: "v" } })).toThrow(IniWriteError);
    expect(() => stringifyIni({ a: { "k=": "v" } })).toThrow(IniWriteError);
  });
});
