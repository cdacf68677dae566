/**
 * @module packages/upload
 * Reads an upload without holding it in memory: a `multipart/form-data` body (the page's
 * form: small text fields plus one file field) or a raw body (`application/zip`,
 * `application/octet-stream`: API clients) is streamed to a temporary file, counted
 * against a size limit as it arrives. Text fields are bounded in number and size.
 */
import { createWriteStream, rmSync } from "node:fs";
import { TooLarge } from "../../errors.ts";

export class UploadError extends Error {
  constructor(
    readonly code: "too_large" | "malformed" | "no_file",
    message: string,
  ) {
    super(message);
  }
}

export interface UploadLimits {
  maxFileBytes: number;
  maxFields: number;
  maxFieldBytes: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { maxFileBytes: 4 * 1024 ** 3, maxFields: 64, maxFieldBytes: 64 * 1024 };

export interface Upload {
  fields: Record<string, string>;
  file: { path: string; name: string; size: number } | null;
}

/** A file being written, with backpressure and a size cap. */
class Sink {
  size = 0;
  #out;
  #done: Promise<void>;
  constructor(
    readonly path: string,
    readonly max: number,
  ) {
    this.#out = createWriteStream(path, { flags: "wx", mode: 0o640 });
    this.#done = new Promise((resolve, reject) => {
      this.#out.on("close", resolve);
      this.#out.on("error", reject);
    });
  }
  async write(chunk: Uint8Array): Promise<void> {
    if (!chunk.byteLength) return;
    this.size += chunk.byteLength;
    if (this.size > this.max) throw new UploadError("too_large", `the file is larger than ${this.max} bytes`);
    if (!this.#out.write(chunk)) await new Promise((r) => this.#out.once("drain", r));
  }
  async close(): Promise<void> {
    this.#out.end();
    await this.#done;
  }
  async abort(): Promise<void> {
    this.#out.destroy();
    await this.#done.catch(() => {});
    rmSync(this.path, { force: true });
  }
}

function headerParam(header: string, name: string): string | null {
  // Browsers send file names as they are (backslashes included) and escape quotes as %22.
  const m = new RegExp(`(?:^|;)\\s*${name}=\\s*(?:"([^"]*)"|([^;\\s]*))`, "i").exec(header);
  if (!m) return null;
  return m[1] ?? m[2] ?? "";
}

/**
 * Streams the request's body: the file to `tempPath`, the text fields into memory.
 * Throws UploadError; the temporary file is removed on any failure.
 */
export async function readUpload(request: Request, tempPath: string, limits: UploadLimits = DEFAULT_UPLOAD_LIMITS): Promise<Upload> {
  const type = request.headers.get("content-type") ?? "";
  if (!request.body) throw new UploadError("no_file", "the request has no body");
  if (!/^multipart\/form-data/i.test(type)) {
    const sink = new Sink(tempPath, limits.maxFileBytes);
    try {
      for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) await sink.write(chunk);
      await sink.close();
    } catch (err) {
      await sink.abort();
      throw err;
    }
    let name = request.headers.get("x-file-name") ?? "upload.zip";
    try {
      name = decodeURIComponent(name);
    } catch {
      /* not percent-encoded: keep it as sent */
    }
    name = name.slice(0, 255);
    return { fields: {}, file: { path: tempPath, name, size: sink.size } };
  }
  const boundary = headerParam(type, "boundary");
  if (!boundary || boundary.length > 200) throw new UploadError("malformed", "multipart body without a boundary");
  return parseMultipart(request.body as unknown as AsyncIterable<Uint8Array>, boundary, tempPath, limits);
}

async function parseMultipart(body: AsyncIterable<Uint8Array>, boundary: string, tempPath: string, limits: UploadLimits): Promise<Upload> {
  const delim = Buffer.from(`\r\n--${boundary}`);
  const fields: Record<string, string> = Object.create(null);
  let file: Upload["file"] = null;
  let sink: Sink | null = null;
  let fieldName: string | null = null;
  let fieldBytes: Buffer[] = [];
  let fieldSize = 0;
  let fieldCount = 0;
  // Start as if a CRLF preceded the first boundary, so one delimiter form fits all.
  let buf: Buffer = Buffer.from("\r\n");
  let state: "preamble" | "after" | "headers" | "body" | "end" = "preamble";

  const emit = async (data: Buffer) => {
    if (sink) await sink.write(data);
    else if (fieldName !== null) {
      fieldSize += data.length;
      if (fieldSize > limits.maxFieldBytes) throw new UploadError("too_large", `field ${fieldName} is too long`);
      fieldBytes.push(data);
    }
  };
  const endPart = async () => {
    if (sink) {
      await sink.close();
      file = { path: sink.path, name: file?.name ?? "upload", size: sink.size };
      sink = null;
    } else if (fieldName !== null) {
      // A repeated name (a multiple select) keeps every value, one per line.
      const value = Buffer.concat(fieldBytes).toString("utf8");
      fields[fieldName] = fieldName in fields ? `${fields[fieldName]}\n${value}` : value;
    }
    fieldName = null;
    fieldBytes = [];
    fieldSize = 0;
  };

  try {
    for await (const chunk of body) {
      buf = buf.length ? Buffer.concat([buf, chunk]) : Buffer.from(chunk);
      for (;;) {
        if (state === "preamble") {
          const i = buf.indexOf(delim);
          if (i < 0) {
            if (buf.length > 64 * 1024) throw new UploadError("malformed", "no multipart boundary found");
            break;
          }
          buf = buf.subarray(i + delim.length);
          state = "after";
        } else if (state === "after") {
          if (buf.length < 2) break;
          if (buf[0] === 0x2d && buf[1] === 0x2d) {
            state = "end";
            buf = Buffer.alloc(0);
            break;
          }
          const nl = buf.indexOf("\r\n");
          if (nl < 0) {
            if (buf.length > 256) throw new UploadError("malformed", "bad multipart boundary line");
            break;
          }
          buf = buf.subarray(nl + 2);
          state = "headers";
        } else if (state === "headers") {
          const end = buf.indexOf("\r\n\r\n");
          if (end < 0) {
            if (buf.length > 16 * 1024) throw new UploadError("malformed", "multipart headers too long");
            break;
          }
          const headers = buf.subarray(0, end).toString("utf8");
          buf = buf.subarray(end + 4);
          const disp = /^content-disposition:\s*(.*)$/im.exec(headers)?.[1] ?? "";
          const name = headerParam(disp, "name");
          const filename = headerParam(disp, "filename");
          if (name === null) throw new UploadError("malformed", "a multipart part without a name");
          if (filename !== null) {
            if (file || sink) throw new UploadError("malformed", "only one file per upload");
            if (filename === "") {
              fieldName = null; // an empty file input: ignore its (empty) body
            } else {
              sink = new Sink(tempPath, limits.maxFileBytes);
              file = { path: tempPath, name: filename.replace(/^.*[\\/]/, "").slice(0, 255), size: 0 };
            }
          } else {
            if (++fieldCount > limits.maxFields) throw new UploadError("too_large", "too many form fields");
            fieldName = name.slice(0, 100);
          }
          state = "body";
        } else if (state === "body") {
          const i = buf.indexOf(delim);
          if (i >= 0) {
            await emit(buf.subarray(0, i));
            buf = buf.subarray(i + delim.length);
            await endPart();
            state = "after";
          } else {
            const keep = delim.length - 1;
            if (buf.length > keep) {
              await emit(buf.subarray(0, buf.length - keep));
              buf = Buffer.from(buf.subarray(buf.length - keep));
            }
            break;
          }
        } else break;
      }
      if (state === "end") break;
    }
    if (state !== "end") throw new UploadError("malformed", "the multipart body is truncated");
  } catch (err) {
    if (sink) await (sink as Sink).abort();
    else if (file) rmSync(tempPath, { force: true });
    if (err instanceof TooLarge) throw new UploadError("too_large", "the request body is larger than allowed");
    throw err instanceof UploadError ? err : new UploadError("malformed", (err as Error).message.slice(0, 200));
  }
  return { fields: { ...fields }, file };
}
