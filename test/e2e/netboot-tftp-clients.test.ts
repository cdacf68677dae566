/**
 * Our TFTP server against real clients (issue 8): curl (`tftp://`, `--tftp-blksize`) and
 * atftp (blksize, tsize, windowsize), on loopback and an unprivileged port; files compared
 * byte for byte; a path outside the root and a write refused. Skipped when a client is missing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTftp, type TftpServer, type TransferEvent } from "../../src/net/tftp/server.ts";

const hasCurl = existsSync("/usr/bin/curl");
const hasAtftp = existsSync("/usr/bin/atftp");
if (!hasAtftp) console.warn("netboot-tftp-clients: atftp tests skipped: apt install atftp");

let dir: string;
let server: TftpServer;
const events: TransferEvent[] = [];
// Not a multiple of any block size used, plus one that is (the empty last block).
const big = new Uint8Array(3_000_001).map((_, i) => (i * 31 + (i >> 9)) & 255);
const exact = new Uint8Array(1468 * 40).map((_, i) => i & 255);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "nb-clients-"));
  writeFileSync(join(dir, "root-big.bin"), big);
  writeFileSync(join(dir, "root-exact.bin"), exact);
  writeFileSync(join(dir, "outside.txt"), "secret");
  const { mkdirSync, renameSync } = await import("node:fs");
  mkdirSync(join(dir, "root"));
  renameSync(join(dir, "root-big.bin"), join(dir, "root", "big.bin"));
  renameSync(join(dir, "root-exact.bin"), join(dir, "root", "exact.bin"));
  server = await startTftp({ root: join(dir, "root"), bind: "127.0.0.1", port: 0, onEvent: (e) => events.push(e) });
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function run(cmd: string[]): Promise<{ code: number; err: string }> {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), 30_000);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, err: await new Response(p.stderr).text() };
}

describe.skipIf(!hasCurl)("curl", () => {
  test.each([["512 (default)", []], ["1468", ["--tftp-blksize", "1468"]], ["8192", ["--tftp-blksize", "8192"]]])("blksize %s", async (_n, flags) => {
    const out = join(dir, `curl-${Math.random()}`);
    const r = await run(["curl", "-sS", ...(flags as string[]), "-o", out, `tftp://127.0.0.1:${server.port}/big.bin`]);
    expect(r.code).toBe(0);
    expect(Buffer.from(readFileSync(out)).equals(Buffer.from(big))).toBe(true);
  });

  test("a path outside the root is refused", async () => {
    const r = await run(["curl", "-sS", "-o", join(dir, "x"), `tftp://127.0.0.1:${server.port}/../outside.txt`]);
    expect(r.code).not.toBe(0);
  });
});

describe.skipIf(!hasAtftp)("atftp", () => {
  test.each([
    ["blksize 1468 + tsize", ["--option", "blksize 1468", "--option", "tsize 0"], "big.bin", big],
    ["blksize 1468 + windowsize 16", ["--option", "blksize 1468", "--option", "windowsize 16"], "big.bin", big],
    ["windowsize 8, size a multiple of blksize", ["--option", "blksize 1468", "--option", "windowsize 8"], "exact.bin", exact],
    ["plain 512-byte blocks", [], "exact.bin", exact],
  ] as const)("%s", async (_n, opts, file, data) => {
    const out = join(dir, `atftp-${Math.random()}`);
    const r = await run(["atftp", ...opts, "-g", "-r", file, "-l", out, "127.0.0.1", String(server.port)]);
    expect(r.code).toBe(0);
    expect(Buffer.from(readFileSync(out)).equals(Buffer.from(data))).toBe(true);
  });

  test("a write is refused; the server stays up", async () => {
    const r = await run(["atftp", "-p", "-r", "new.bin", "-l", join(dir, "outside.txt"), "127.0.0.1", String(server.port)]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("read-only");
    expect(existsSync(join(dir, "root", "new.bin"))).toBe(false);
  });

  test("the transfers were logged with their options", () => {
    expect(events.some((e) => e.outcome === "done" && e.windowsize === 16 && e.blksize === 1468 && e.bytes === big.length)).toBe(true);
  });
});
