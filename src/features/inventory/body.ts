/**
 * @module inventory/body
 * The compression variants inventory agents send, and the same for our answers:
 * FusionInventory and the GLPI agent name it in `Content-Type`
 * (`application/x-compress-zlib`, `application/x-compress-gzip`, else plain XML or JSON),
 * our agent in `Content-Encoding: gzip`; a body whose header says nothing is recognised by
 * its first bytes. Inflating streams and stops at a cap, so a small "zip bomb" costs
 * what the cap allows and no more.
 */
import { deflateSync, gzipSync } from "node:zlib";
import { InventoryError, LIMITS } from "./normalized.ts";

export type Compression = "zlib" | "gzip" | "none";

/** How a body is compressed, from its headers, else from its magic bytes. */
export function compressionOf(headers: Headers, bytes: Uint8Array): Compression {
  const type = (headers.get("content-type") ?? "").toLowerCase();
  const encoding = (headers.get("content-encoding") ?? "").toLowerCase().trim();
  if (type.includes("x-compress-zlib") || encoding === "deflate") return "zlib";
  if (type.includes("x-compress-gzip") || encoding === "gzip" || encoding === "x-gzip") return "gzip";
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return "gzip";
  // RFC 1950: CM 8 (deflate) and a header checksum divisible by 31.
  if (bytes.length > 1 && (bytes[0]! & 0x0f) === 8 && ((bytes[0]! << 8) | bytes[1]!) % 31 === 0) return "zlib";
  return "none";
}

/** The body decompressed, refused past `cap` bytes or when the stream is corrupt. */
export async function inflate(bytes: Uint8Array, kind: Compression, cap: number = LIMITS.documentBytes): Promise<Uint8Array> {
  if (kind === "none") {
    if (bytes.length > cap) throw new InventoryError("too_large", `the document is larger than ${cap >> 20} MiB`);
    return bytes;
  }
  const stream = new DecompressionStream(kind === "zlib" ? "deflate" : "gzip");
  const writer = stream.writable.getWriter();
  writer.write(bytes as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > cap) {
        await reader.cancel().catch(() => {});
        throw new InventoryError("too_large", `the document is larger than ${cap >> 20} MiB once decompressed`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof InventoryError) throw err;
    throw new InventoryError("malformed", `the ${kind} body is corrupt or truncated (${(err as Error).message})`);
  }
  return Buffer.concat(chunks);
}

/** An answer compressed the way the request was, with its Content-Type. */
export function encodeAnswer(body: string, kind: Compression, plainType: "application/xml" | "application/json"): { body: Uint8Array<ArrayBuffer>; type: string } {
  const bytes = new TextEncoder().encode(body);
  if (kind === "zlib") return { body: new Uint8Array(deflateSync(bytes)), type: "application/x-compress-zlib" };
  if (kind === "gzip") return { body: new Uint8Array(gzipSync(bytes)), type: "application/x-compress-gzip" };
  return { body: bytes, type: plainType };
}
