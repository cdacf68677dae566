/**
 * @module scripts/bench/xmpp/prosody-bot
 * The server's JID on Prosody, for the xmpp suite: with an external XMPP server, what the
 * relay does in process (the `medulla@<domain>` channel) is an ordinary client connection.
 * It logs in with the agent's own XMPP client (STARTTLS against the CA, SCRAM), answers each
 * agent's `announce` with a `resultannounce` (as relay-server.ts does, so both servers carry
 * the same traffic), remembers who announced, and takes the same control commands on stdin
 * as relay-server.ts, one JSON line answering each:
 *
 *   broadcast [ms]   a `ping` envelope to every agent that announced, all sent in one go; a
 *                    round trip runs from handing the message to the client library to the
 *                    agent's `resultping` arriving back through Prosody (bot → Prosody →
 *                    agent → Prosody → bot: one more network hop each way than the relay's
 *                    in-process channel)
 *   rss              this process's memory (not counted as Prosody's)
 *   stop             logs out and exits
 *
 *   bun scripts/bench/xmpp/prosody-bot.ts run --port P --ca PEM --password PW [--domain localhost] [--username medulla]
 */
import { createInterface } from "node:readline";
import { flag, parseArgs } from "../../../agent/src/args.ts";
import { createXmppClient, xml, type Element } from "../../../agent/src/xmpp/client.ts";
import { encodeEnvelope, reply, request, type Envelope } from "../../../src/protocol/envelope.ts";
import { summarize } from "./proc.ts";

const KNOWN = { values: ["port", "ca", "password", "domain", "username"], booleans: [] };

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), KNOWN);
  const [port, caFile, password] = [Number(flag(args, "port")), flag(args, "ca"), flag(args, "password")];
  if (args.command !== "run" || !port || !caFile || !password) throw new Error("usage: prosody-bot.ts run --port P --ca PEM --password PW");
  const domain = flag(args, "domain") ?? "localhost";
  const out = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const client = createXmppClient({ host: "127.0.0.1", port, domain, username: flag(args, "username") ?? "medulla", password, ca: await Bun.file(caFile).text(), resource: "bot" });
  client.entity.on("error", () => undefined);
  await client.start();
  await client.entity.send(xml("presence"));

  const agents = new Set<string>();
  const pending = new Map<string, (at: number) => void>();
  const send = (to: string, env: Envelope) => client.entity.send(xml("message", { to, type: "chat" }, xml("body", {}, encodeEnvelope(env))));
  client.entity.on("stanza", (st: Element) => {
    if (!st.is("message") || st.attrs.type === "error") return;
    const body = st.getChildText("body");
    if (!body) return;
    let env: Envelope;
    try {
      env = JSON.parse(body) as Envelope;
    } catch {
      return;
    }
    if (env.action === "announce") {
      agents.add(st.attrs.from!);
      void send(st.attrs.from!, reply(env, { machineId: agents.size })).catch(() => undefined);
    } else if (env.action?.startsWith("result")) {
      pending.get(env.sessionid)?.(performance.now());
    }
  });
  out({ event: "online", jid: `${flag(args, "username") ?? "medulla"}@${domain}/bot` });

  const broadcast = async (timeoutMs: number) => {
    const targets = [...agents];
    const rtts: number[] = [];
    const started = performance.now();
    const waits = targets.map((to) => {
      const env = request("ping");
      const t0 = performance.now();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => (pending.delete(env.sessionid), resolve()), timeoutMs);
        pending.set(env.sessionid, (at) => {
          clearTimeout(timer);
          pending.delete(env.sessionid);
          rtts.push(at - t0);
          resolve();
        });
        void send(to, env).catch(() => undefined);
      });
    });
    await Promise.all(waits);
    return { sent: targets.length, answered: rtts.length, failed: targets.length - rtts.length, totalMs: performance.now() - started, rtts: summarize(rtts) };
  };

  const stop = async () => {
    await client.stop(2_000);
    out({ stopped: true });
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  const lines = createInterface({ input: process.stdin });
  lines.on("close", () => void stop());
  for await (const line of lines) {
    const [cmd, arg] = line.trim().split(/\s+/);
    if (cmd === "broadcast") out(await broadcast(Number(arg) || 60_000));
    else if (cmd === "rss") out({ rss: process.memoryUsage().rss, agents: agents.size });
    else if (cmd === "stop") return stop();
    else out({ error: `unknown command ${cmd}` });
  }
}

if (import.meta.main) {
  main().catch((e) => {
    process.stderr.write(`prosody-bot: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
