/**
 * @module net/xmpp/server
 * Sockets and timers around the streams: a TCP listener (node:net) whose connections
 * upgrade in place to TLS on STARTTLS, and optionally a second one that takes only
 * XEP-0114 components. Each accepted socket becomes a transport for `attach` (limits,
 * stream, watchdog) and is torn down on its own: a socket error, a slow reader or a stream
 * error affects that connection only.
 */
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createSecureContext, TLSSocket, type SecureContext } from "node:tls";
import type { Clock } from "../../clock.ts";
import { attach, clientListener, componentListener } from "./attach.ts";
import { normalizeIp } from "./limits.ts";
import type { Connection, ListenerTraits, StreamHost, Transport } from "./stream.ts";

export interface ListenOptions {
  host: string;
  port: number;
  tls: { cert: string; key: string };
  /** A separate port for XEP-0114 components (they may also use the main port). */
  componentPort?: number;
}

export interface Listening {
  port: number;
  componentPort?: number;
  /** Closes the listeners, ends every stream with `system-shutdown`, waits for the sockets. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface ServerHost extends StreamHost {
  readonly clock: Clock;
  readonly connections: Set<Connection>;
}

/** How long a closing socket may linger before it is destroyed (a peer that never closes). */
const LINGER_MS = 2_000;

export async function listen(host: ServerHost, options: ListenOptions): Promise<Listening> {
  const secureContext = createSecureContext({ cert: options.tls.cert, key: options.tls.key });
  const live = new Map<Connection, Promise<void>>();
  const servers: Server[] = [];
  const open = async (port: number, traits: ListenerTraits, label: string): Promise<number> => {
    const server = createServer({ noDelay: true }, (socket) => accept(host, socket, traits, secureContext, live));
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (err) => host.log.error({ err }, `${label} listener error`));
    const actual = (server.address() as AddressInfo).port;
    host.log.info(`listening on ${label} ${options.host}:${actual}`);
    return actual;
  };
  const stopAll = async () => {
    // close() stops accepting at once but calls back only when the last socket is gone.
    const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    const closing = [...live];
    for (const [conn] of closing) conn.fail("system-shutdown", "the server is stopping");
    await Promise.all([...closing.map(([, gone]) => gone), ...closed]);
  };
  try {
    const port = await open(options.port, clientListener, "xmpp");
    const componentPort = options.componentPort === undefined ? undefined : await open(options.componentPort, componentListener, "xmpp-component");
    return { port, componentPort, stop: stopAll, [Symbol.asyncDispose]: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function accept(host: ServerHost, raw: Socket, traits: ListenerTraits, secureContext: SecureContext, live: Map<Connection, Promise<void>>): void {
  const ip = normalizeIp(raw.remoteAddress);
  raw.on("error", (err) => host.log.debug({ ip, err: err.message }, "xmpp socket error"));
  let socket: Socket = raw;
  let conn: Connection | null = null;
  let markClosed = () => {};
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const onData = (chunk: Buffer) => conn?.input(chunk);
  const onClose = () => {
    markClosed();
    if (!conn) return;
    live.delete(conn);
    conn.transportClosed();
  };
  const transport: Transport = {
    ip,
    send(data) {
      if (socket.destroyed) return;
      socket.write(data);
      if (socket.writableLength > host.limits.maxSendBufferBytes) {
        host.log.warn({ ip, jid: conn?.jid?.full }, "xmpp client does not read; dropped");
        socket.destroy();
      }
    },
    startTls() {
      raw.off("data", onData);
      const secure = new TLSSocket(raw, { isServer: true, secureContext });
      socket = secure;
      let isSecured = false;
      const secured = () => {
        if (!isSecured) conn?.secured();
        isSecured = true;
      };
      secure.on("secure", secured);
      // Data only flows after the handshake; should it ever come before "secure", it still counts.
      secure.on("data", (chunk: Buffer) => {
        secured();
        onData(chunk);
      });
      secure.on("error", (err) => {
        host.log.debug({ ip, err: err.message }, "xmpp TLS error");
        secure.destroy();
      });
      secure.on("close", onClose);
    },
    end() {
      if (socket.destroyed) return;
      socket.end();
      setTimeout(() => socket.destroy(), LINGER_MS).unref();
    },
  };
  conn = attach(host, transport, traits);
  if (!conn) return;
  live.set(conn, closed);
  raw.on("data", onData);
  raw.on("close", onClose);
}
