/**
 * The agent's login against servers that go away half-way: a socket reset or a clean close
 * during the stream negotiation must fail `start()` at once with a clear error, and leave
 * no promise rejected unobserved (xmpp.js's own start() did both wrong).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createServer, type Server, type Socket } from "node:net";
import { createXmppClient } from "../../agent/src/xmpp/client.ts";

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A TCP server that answers the stream header (or not), then does `then` to the socket. */
async function misbehaving(then: (s: Socket) => void, answerHeader: boolean): Promise<number> {
  const server = createServer((socket) => {
    socket.once("data", () => {
      if (answerHeader) socket.write(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x' from='test' version='1.0'>`);
      setTimeout(() => then(socket), 20);
    });
  }).listen(0, "127.0.0.1");
  servers.push(server);
  await new Promise((r) => server.once("listening", r));
  return (server.address() as { port: number }).port;
}

async function login(port: number): Promise<{ error: string; stray: unknown[] }> {
  const stray: unknown[] = [];
  const onStray = (reason: unknown) => stray.push(reason);
  process.on("unhandledRejection", onStray);
  try {
    const client = createXmppClient({ host: "127.0.0.1", port, domain: "test", username: "a", password: "b", ca: "", timeoutMs: 2_000 });
    client.entity.on("error", () => undefined);
    const error = await client.start().then(() => "logged in", (e: Error) => e.message);
    await Bun.sleep(50);
    await client.stop(200);
    return { error, stray };
  } finally {
    process.off("unhandledRejection", onStray);
  }
}

describe("login against a server that goes away", () => {
  test("a reset before the stream opens fails the login, with nothing left unobserved", async () => {
    const r = await login(await misbehaving((s) => s.resetAndDestroy(), false));
    expect(r.error).not.toBe("logged in");
    expect(r.stray).toEqual([]);
  });

  test("a reset after the stream opened fails the login, with nothing left unobserved", async () => {
    const r = await login(await misbehaving((s) => s.resetAndDestroy(), true));
    expect(r.error).not.toBe("logged in");
    expect(r.stray).toEqual([]);
  });

  test("a clean close during negotiation fails the login instead of stalling", async () => {
    const r = await login(await misbehaving((s) => s.end(), true));
    expect(r.error).toMatch(/closed|login/);
    expect(r.stray).toEqual([]);
  });

  test("a server that never answers fails within the deadline", async () => {
    const r = await login(await misbehaving(() => undefined, true));
    expect(r.error).toMatch(/within/);
  });
});
