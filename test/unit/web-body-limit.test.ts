import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TooLarge } from "../../src/errors.ts";
import { readUpload, UploadError } from "../../src/features/packages/upload.ts";
import { boundedBody } from "../../src/web/app.tsx";

/** A body without Content-Length, as `curl -T -` or a streaming client sends it. */
function chunkedRequest(total: number, chunk = 64 * 1024, type = "application/octet-stream"): Request {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= total) return c.close();
      const n = Math.min(chunk, total - sent);
      sent += n;
      c.enqueue(new Uint8Array(n).fill(0x61));
    },
  });
  return new Request("http://x/upload", { method: "POST", body, headers: { "content-type": type }, duplex: "half" } as RequestInit);
}

describe("boundedBody", () => {
  test("a declared length over the limit is refused before reading", async () => {
    const r = new Request("http://x/", { method: "POST", body: "abcdef", headers: { "content-length": "6" } });
    await expect(boundedBody(r, 5)).rejects.toBeInstanceOf(TooLarge);
  });

  test("a small chunked body is read whole and kept", async () => {
    const r = await boundedBody(chunkedRequest(10_000, 999), 1 << 20);
    expect((await r.arrayBuffer()).byteLength).toBe(10_000);
  });

  test("a small chunked body over the limit is refused", async () => {
    await expect(boundedBody(chunkedRequest(2 << 20), 1 << 20)).rejects.toBeInstanceOf(TooLarge);
  });

  test("a large limit streams the chunked body instead of buffering it", async () => {
    const original = chunkedRequest(12 << 20);
    const r = await boundedBody(original, 64 << 20);
    // Handed on as a stream: nothing has been read from it yet.
    expect(r).not.toBe(original);
    let size = 0;
    for await (const c of r.body as unknown as AsyncIterable<Uint8Array>) size += c.byteLength;
    expect(size).toBe(12 << 20);
  });

  test("a streamed body fails with TooLarge once past the limit", async () => {
    const r = await boundedBody(chunkedRequest(9 << 20), 8 << 20);
    await expect(r.arrayBuffer()).rejects.toBeInstanceOf(TooLarge);
  });
});

describe("chunked uploads reach the upload reader as streams", () => {
  const dir = mkdtempSync(join(tmpdir(), "medulla-chunked-"));
  test("a raw chunked upload within the limit lands on disk whole", async () => {
    const path = join(dir, "ok");
    const u = await readUpload(await boundedBody(chunkedRequest(6 << 20), 32 << 20), path, { maxFileBytes: 16 << 20, maxFields: 4, maxFieldBytes: 100 });
    expect(u.file!.size).toBe(6 << 20);
    expect(readFileSync(path).byteLength).toBe(6 << 20);
  });

  test("a multipart chunked upload past the body limit is too_large and leaves no file", async () => {
    const path = join(dir, "big");
    const B = "Bnd";
    const head = new TextEncoder().encode(`--${B}\r\nContent-Disposition: form-data; name="file"; filename="a.zip"\r\n\r\n`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent === 0) c.enqueue(head);
        if (sent >= 10 << 20) return c.close();
        sent += 1 << 20;
        c.enqueue(new Uint8Array(1 << 20).fill(0x62));
      },
    });
    const req = new Request("http://x/", { method: "POST", body, headers: { "content-type": `multipart/form-data; boundary=${B}` }, duplex: "half" } as RequestInit);
    const err = await readUpload(await boundedBody(req, 8 << 20), path, { maxFileBytes: 1 << 30, maxFields: 4, maxFieldBytes: 100 }).catch((e) => e);
    expect(err).toBeInstanceOf(UploadError);
    expect((err as UploadError).code).toBe("too_large");
    expect(existsSync(path)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});
