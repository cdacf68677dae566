import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ERR, negotiate, OP, parseRequest, resolveInRoot, startTftp, TftpError, type TftpServer, type TransferEvent } from "../../src/net/tftp/server.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const rrq = (file: string, mode = "octet", opts: Record<string, string> = {}, op: number = OP.RRQ) =>
  Uint8Array.from([0, op, ...enc(file), 0, ...enc(mode), 0, ...Object.entries(opts).flatMap(([k, v]) => [...enc(k), 0, ...enc(v), 0])]);
const ack = (n: number) => Uint8Array.of(0, OP.ACK, n >> 8, n & 255);

let root: string;
let outside: string;
let server: TftpServer;
const events: TransferEvent[] = [];
const data = new Uint8Array(5000).map((_, i) => (i * 7) & 255);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "nb-tftp-"));
  outside = mkdtempSync(join(tmpdir(), "nb-out-"));
  writeFileSync(join(root, "file.bin"), data);
  writeFileSync(join(root, "exact.bin"), data.subarray(0, 1024));
  writeFileSync(join(root, "text.txt"), "a\nb\r");
  mkdirSync(join(root, "sub"));
  writeFileSync(join(root, "sub", "x.efi"), "x");
  writeFileSync(join(outside, "secret"), "secret");
  symlinkSync(join(outside, "secret"), join(root, "escape"));
  symlinkSync(join(root, "sub", "x.efi"), join(root, "inside"));
  // A timeout long enough that a loaded machine does not retransmit where a test counts packets.
  server = await startTftp({ root, bind: "127.0.0.1", port: 0, timeoutMs: 1000, retries: 2, onEvent: (e) => events.push(e) });
});
afterAll(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

/** A scripted client: collects every datagram it gets, with its source port. */
async function client() {
  const got: { op: number; n: number; body: Uint8Array; port: number }[] = [];
  let refused = 0;
  const sock = await Bun.udpSocket({
    hostname: "127.0.0.1", port: 0,
    socket: {
      data(_s, buf, port) { const b = new Uint8Array(buf); got.push({ op: b[1]!, n: (b[2]! << 8) | b[3]!, body: b.subarray(4), port }); },
      // A stranger writing to a transfer's connected socket gets ICMP port unreachable.
      error() { refused++; },
    },
  });
  const wait = async (pred: () => boolean, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!pred() && Date.now() < deadline) await Bun.sleep(5);
    if (!pred()) throw new Error(`timed out; got ${JSON.stringify(got.map((g) => [g.op, g.n]))}`);
  };
  return { got, sock, wait, refused: () => refused, send: (b: Uint8Array, port = server.port) => sock.send(b, port, "127.0.0.1") };
}

describe("request parsing and negotiation", () => {
  test("parses a request with options, lowercasing names and mode", () => {
    expect(parseRequest(rrq("a/b", "OCTET", { BLKSIZE: "1468", tsize: "0" }))).toEqual({ op: 1, filename: "a/b", mode: "octet", options: new Map([["blksize", "1468"], ["tsize", "0"]]) });
  });
  test.each([
    ["short", Uint8Array.of(0, 1)],
    ["not a request", Uint8Array.of(0, 3, 0, 1, 0)],
    ["no terminator", Uint8Array.from([0, 1, ...enc("file")])],
    ["no mode", Uint8Array.from([0, 1, ...enc("file"), 0])],
    ["option without value", Uint8Array.from([0, 1, ...enc("f"), 0, ...enc("octet"), 0, ...enc("blksize"), 0])],
    ["empty name", Uint8Array.from([0, 1, 0, ...enc("octet"), 0])],
    ["oversize", new Uint8Array(2000)],
  ])("refuses %s", (_n, b) => {
    expect(() => parseRequest(b)).toThrow(TftpError);
  });
  test("accepts the four options within their ranges, drops unknown and bad ones", () => {
    const n = negotiate(new Map([["blksize", "1468"], ["tsize", "0"], ["timeout", "3"], ["windowsize", "16"], ["multicast", ""], ["foo", "1"]]), 1234, { timeoutMs: 2000, maxBlksize: 65464, maxWindow: 64 });
    expect(n).toMatchObject({ blksize: 1468, timeoutMs: 3000, windowsize: 16 });
    expect([...n.ack]).toEqual([["blksize", "1468"], ["tsize", "1234"], ["timeout", "3"], ["windowsize", "16"]]);
    const bad = negotiate(new Map([["blksize", "4"], ["timeout", "0"], ["windowsize", "x"], ["tsize", "-1"]]), 1, { timeoutMs: 2000, maxBlksize: 65464, maxWindow: 64 });
    expect(bad.ack.size).toBe(0);
    expect(negotiate(new Map([["blksize", "99999"], ["windowsize", "500"]]), 1, { timeoutMs: 2000, maxBlksize: 65464, maxWindow: 64 })).toMatchObject({ blksize: 65464, windowsize: 64 });
  });
  test("paths stay inside the root", () => {
    const real = readdirSync(root).length && resolveInRoot(join(root, "..", root.split("/").pop()!), "file.bin");
    expect(real).toEndWith("/file.bin");
    expect(resolveInRoot(realRoot(), "\\sub\\x.efi")).toEndWith("/sub/x.efi");
    expect(resolveInRoot(realRoot(), "/sub//./x.efi")).toEndWith("/sub/x.efi");
    expect(resolveInRoot(realRoot(), "inside")).toEndWith("/sub/x.efi");
    for (const [name, code] of [["../etc/passwd", ERR.ACCESS], ["sub/../../x", ERR.ACCESS], ["..\\..\\x", ERR.ACCESS], ["escape", ERR.ACCESS], ["missing", ERR.NOT_FOUND], ["sub", ERR.NOT_FOUND], ["a\u0001b", ERR.ACCESS]] as const) {
      try {
        resolveInRoot(realRoot(), name);
        throw new Error(`${name} accepted`);
      } catch (err) {
        expect((err as TftpError).code).toBe(code);
      }
    }
  });
});

const realRoot = () => require("node:fs").realpathSync(root) as string;

describe("captured requests (test/fixtures/tftp)", () => {
  test("OVMF's read request: tsize, blksize 1468, windowsize 4", () => {
    const raw = Buffer.from(readFileSync(join(import.meta.dir, "../fixtures/tftp/rrq-uefi-firmware.hex"), "utf8").trim(), "hex");
    const req = parseRequest(raw);
    expect(req).toEqual({ op: OP.RRQ, filename: "snponly.efi", mode: "octet", options: new Map([["tsize", "0"], ["blksize", "1468"], ["windowsize", "4"]]) });
    expect(negotiate(req.options, 173792, { timeoutMs: 2000, maxBlksize: 65464, maxWindow: 64 })).toMatchObject({ blksize: 1468, windowsize: 4 });
  });

  test("the size probe (OACK, then error 8) is logged as declined, not failed", async () => {
    const c = await client();
    c.send(rrq("file.bin", "octet", { tsize: "0", blksize: "1468" }));
    await c.wait(() => c.got.length >= 1);
    c.send(Uint8Array.from([0, OP.ERROR, 0, 8, ...enc("User aborted the transfer"), 0]), c.got[0]!.port);
    const deadline = Date.now() + 2000;
    while (!events.some((e) => e.outcome === "declined") && Date.now() < deadline) await Bun.sleep(10);
    expect(events.find((e) => e.outcome === "declined")?.reason).toBe("client error 8: User aborted the transfer");
    c.sock.close();
  });
});

for (const workers of [4, 0]) describe(`transfers (one block at a time on ${workers ? "worker threads" : "the event loop"})`, () => {
  let saved: TftpServer;
  beforeAll(async () => {
    saved = server;
    server = await startTftp({ root, bind: "127.0.0.1", port: 0, timeoutMs: 1000, retries: 2, lockstepWorkers: workers, onEvent: (e) => events.push(e) });
  });
  afterAll(async () => {
    await server.stop();
    server = saved;
  });

  test("plain RFC 1350 transfer, 512-byte blocks, with a lost ACK and duplicate ACKs", async () => {
    // (the retransmission comes after the server's 1 s timeout)
    const c = await client();
    c.send(rrq("file.bin"));
    await c.wait(() => c.got.length >= 1);
    const tid = c.got[0]!.port;
    expect(c.got[0]).toMatchObject({ op: OP.DATA, n: 1 });
    // Lose the first ACK: the server retransmits block 1 after its timeout.
    await c.wait(() => c.got.length >= 2);
    expect(c.got[1]).toMatchObject({ op: OP.DATA, n: 1 });
    c.send(ack(1), tid);
    c.send(ack(1), tid); // duplicate: must not cause a second block 2 (sorcerer's apprentice)
    c.send(ack(1), tid);
    await c.wait(() => c.got.some((g) => g.n === 2));
    await Bun.sleep(50);
    expect(c.got.filter((g) => g.n === 2).length).toBe(1);
    const parts: Uint8Array[] = [c.got[0]!.body];
    for (let n = 2; ; n++) {
      c.send(ack(n - 1), tid);
      await c.wait(() => c.got.some((g) => g.n === n));
      const blk = c.got.find((g) => g.n === n)!;
      parts.push(blk.body);
      if (blk.body.length < 512) {
        c.send(ack(n), tid);
        break;
      }
    }
    expect(Buffer.concat(parts)).toEqual(Buffer.from(data));
    await c.wait(() => events.some((e) => e.client.endsWith(`:${c.sock.port}`) && e.outcome === "done"));
    expect(events.find((e) => e.client.endsWith(`:${c.sock.port}`))?.engine).toBe(workers ? "worker" : "event-loop");
    c.sock.close();
  });

  test("options: OACK, then windows of blocks; a gap resumes after the client's ACK", async () => {
    const c = await client();
    c.send(rrq("file.bin", "octet", { blksize: "1000", tsize: "0", windowsize: "4", timeout: "1", bogus: "1" }));
    await c.wait(() => c.got.length >= 1);
    const oack = c.got[0]!;
    expect(oack.op).toBe(OP.OACK);
    expect(new TextDecoder().decode(Uint8Array.from([oack.n >> 8, oack.n & 255, ...oack.body])).split("\0")).toEqual(["blksize", "1000", "tsize", "5000", "windowsize", "4", "timeout", "1", ""]);
    const tid = oack.port;
    c.send(ack(0), tid);
    await c.wait(() => c.got.filter((g) => g.op === OP.DATA).length >= 4);
    expect(c.got.filter((g) => g.op === OP.DATA).map((g) => g.n)).toEqual([1, 2, 3, 4]);
    c.send(ack(2), tid); // lost 3: resume at 3
    await c.wait(() => c.got.filter((g) => g.op === OP.DATA).length >= 6);
    expect(c.got.filter((g) => g.op === OP.DATA).map((g) => g.n).slice(4)).toEqual([3, 4, 5, 6]);
    c.send(ack(6), tid);
    await Bun.sleep(30);
    expect(c.got.filter((g) => g.op === OP.DATA).length).toBe(8);
    c.sock.close();
  });

  test("a file whose size is a multiple of blksize ends with an empty block", async () => {
    const c = await client();
    c.send(rrq("exact.bin", "octet", { blksize: "512" }));
    await c.wait(() => c.got.length >= 1);
    const tid = c.got[0]!.port;
    for (let n = 0; n < 3; n++) {
      c.send(ack(n), tid);
      await c.wait(() => c.got.length >= n + 2);
    }
    expect(c.got.slice(1).map((g) => [g.n, g.body.length])).toEqual([[1, 512], [2, 512], [3, 0]]);
    c.sock.close();
  });

  test("netascii converts line ends", async () => {
    const c = await client();
    c.send(rrq("text.txt", "netascii"));
    await c.wait(() => c.got.length >= 1);
    expect([...c.got[0]!.body]).toEqual([97, 13, 10, 98, 13, 0]);
    c.send(ack(1), c.got[0]!.port);
    c.sock.close();
  });

  test.each([
    ["a write request", rrq("new.bin", "octet", {}, OP.WRQ), ERR.ACCESS],
    ["a path outside the root", rrq("../../etc/passwd"), ERR.ACCESS],
    ["a symlink leaving the root", rrq("escape"), ERR.ACCESS],
    ["a missing file", rrq("nope.bin"), ERR.NOT_FOUND],
    ["mail mode", rrq("file.bin", "mail"), ERR.ILLEGAL],
    ["garbage", Uint8Array.of(0, 9, 1, 2, 3), ERR.ILLEGAL],
  ])("answers %s with an error", async (_n, packet, code) => {
    const c = await client();
    c.send(packet);
    await c.wait(() => c.got.length >= 1);
    expect(c.got[0]).toMatchObject({ op: OP.ERROR, n: code });
    c.sock.close();
  });

  test("a stranger on a transfer's port does not disturb it", async () => {
    const c = await client();
    const stranger = await client();
    c.send(rrq("file.bin"));
    await c.wait(() => c.got.length >= 1);
    const tid = c.got[0]!.port;
    for (const packet of [ack(1), Uint8Array.from([0, OP.ERROR, 0, 0, 0])]) {
      try {
        stranger.send(packet, tid);
      } catch {
        // ECONNREFUSED from the ICMP answer to the first one: the kernel turned the stranger away
      }
      await Bun.sleep(20);
    }
    await Bun.sleep(100);
    expect(stranger.got).toEqual([]);
    c.send(ack(1), tid);
    await c.wait(() => c.got.some((g) => g.n === 2));
    for (let n = 2; n <= 10; n++) {
      const blk = c.got.find((g) => g.n === n);
      if (!blk) await c.wait(() => c.got.some((g) => g.n === n));
      c.send(ack(n), tid);
      if (c.got.find((g) => g.n === n)!.body.length < 512) break;
    }
    await c.wait(() => events.some((e) => e.client.endsWith(`:${c.sock.port}`) && e.outcome === "done"));
    c.sock.close();
    stranger.sock.close();
  });

  test("a vanished client is given up and logged", async () => {
    const c = await client();
    c.send(rrq("file.bin"));
    await c.wait(() => c.got.length >= 1);
    const port = c.sock.port;
    c.sock.close();
    // ICMP tells the server at once; else 2 retries at 1 s.
    const deadline = Date.now() + 6000;
    const gone = () => events.some((e) => e.client.endsWith(`:${port}`) && e.outcome === "failed" && /retransmissions|client gone/.test(e.reason ?? ""));
    while (!gone() && Date.now() < deadline) await Bun.sleep(20);
    expect(gone()).toBe(true);
    expect(server.active()).toBe(0);
  });

  test("many clients at once", async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => client()));
    // Only these clients' transfers count: the events of earlier tests (and of the other
    // transfer mode's run of this test) are in the same log.
    const ports = new Set(clients.map((c) => `:${c.sock.port}`));
    for (const c of clients) c.send(rrq("file.bin", "octet", { blksize: "1468", windowsize: "8" }));
    await Promise.all(clients.map(async (c) => {
      await c.wait(() => c.got.length >= 1);
      c.send(ack(0), c.got[0]!.port);
      await c.wait(() => c.got.filter((g) => g.op === OP.DATA).length >= 4);
      c.send(ack(4), c.got[0]!.port);
      c.sock.close();
    }));
    const done = () => events.filter((e) => e.outcome === "done" && e.windowsize === 8 && ports.has(e.client.slice(e.client.lastIndexOf(":")))).length;
    const deadline = Date.now() + 3000;
    while (done() < 20 && Date.now() < deadline) await Bun.sleep(10);
    expect(done()).toBe(20);
  });
});
