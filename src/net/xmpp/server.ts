/**
 * @module net/xmpp/server
 * Sockets and timers around the streams: a TCP listener whose connections upgrade in place
 * to TLS on STARTTLS, and optionally a second one that takes only XEP-0114 components. Each
 * accepted socket becomes a transport for `attach` (limits, stream, watchdog) and is torn
 * down on its own: a socket error, a slow reader or a stream error affects that connection
 * only.
 *
 * Built on Bun's own sockets (`Bun.listen`, `socket.upgradeTLS({ isServer: true })`) rather
 * than node:net/node:tls: one set of handlers serves every socket and a connection's state
 * is one small object, where node's stream wrappers gave each connection two socket objects,
 * their Readable/Writable state and dozens of closures. Measured with 5,000 agents
 * (docs/benchmarks.md "xmpp"): less memory per connection and less CPU per login. The
 * price is doing by hand what node's Writable did: Bun's `write` takes what the kernel
 * accepts now, so the rest is queued here and flushed on `drain`, and a reader that lets
 * the queue pass `maxSendBufferBytes` is dropped.
 */
import type { Socket, SocketHandler, TCPSocketListener } from "bun";
import type { Clock } from "../../clock.ts";
import { attach, clientListener, componentListener } from "./attach.ts";
import { NegotiationGate, type GatePass } from "./gate.ts";
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
  /** Connections negotiating now, and those waiting for a slot (gate.ts). */
  readonly negotiations: { readonly active: number; readonly waiting: number };
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

/** One accepted socket: its transport, its stream and what is waiting to be written. */
class Link implements Transport {
  readonly ip: string;
  conn: Connection | null = null;
  /** The socket writes go to: the raw one, then the TLS one after STARTTLS. */
  socket: Socket<Link>;
  /** Bytes the kernel did not take yet, oldest first. */
  #queue: Uint8Array[] = [];
  #queued = 0;
  #upgrading = false;
  /** `end()` was called: no more sends; the socket ends once the queue has gone out. */
  #ending = false;
  isUpgraded = false;
  isSecured = false;
  isClosed = false;
  /** Its place at the negotiation gate (gate.ts): the socket is read once it holds a slot. */
  pass: GatePass | null = null;
  /** Made only when someone waits for the close (a stop), not for every connection. */
  #closed: { promise: Promise<void>; resolve(): void } | null = null;

  constructor(
    socket: Socket<Link>,
    readonly host: ServerHost,
    readonly listener: Listener,
  ) {
    this.socket = socket;
    this.ip = normalizeIp(socket.remoteAddress);
  }

  send(data: string): void {
    if (this.isClosed || this.#ending) return;
    if (this.#queued) return this.#enqueue(Buffer.from(data));
    const written = this.socket.write(data);
    if (written < 0) return; // closed meanwhile: `close` follows
    const size = Buffer.byteLength(data);
    if (written < size) this.#enqueue(Buffer.from(data).subarray(written));
  }

  #enqueue(bytes: Uint8Array): void {
    this.#queue.push(bytes);
    this.#queued += bytes.byteLength;
    if (this.#queued > this.host.limits.maxSendBufferBytes) {
      this.host.log.warn({ ip: this.ip, jid: this.conn?.jid?.full }, "xmpp client does not read; dropped");
      this.destroy();
    }
  }

  /** Writes what was queued, as far as the kernel takes it (on `drain`). */
  flush(): void {
    while (this.#queue.length && !this.isClosed) {
      const head = this.#queue[0]!;
      const written = this.socket.write(head);
      if (written >= head.byteLength) {
        this.#queue.shift();
        this.#queued -= head.byteLength;
        continue;
      }
      if (written > 0) {
        this.#queue[0] = head.subarray(written);
        this.#queued -= written;
      }
      return;
    }
    if (this.#queue.length) return;
    if (this.#ending) this.socket.end();
    else if (this.#upgrading) this.#upgrade();
  }

  startTls(): void {
    this.#upgrading = true;
    // `<proceed/>` must reach the client in clear before the TLS layer takes the socket.
    if (!this.#queue.length) this.#upgrade();
  }

  #upgrade(): void {
    this.#upgrading = false;
    if (this.isClosed) return;
    // `isServer` is not in bun-types yet; Bun's own node:tls passes it the same way.
    const options = { data: this, tls: this.listener.tls, socket: tlsHandlers, isServer: true };
    const [, secure] = this.socket.upgradeTLS<Link>(options);
    this.isUpgraded = true;
    this.socket = secure;
  }

  end(): void {
    if (this.isClosed || this.#ending) return;
    this.#ending = true;
    // What is queued goes out first (`flush` ends the socket once the queue is empty); the
    // linger bounds how long a peer that does not read may keep it.
    setTimeout(() => this.destroy(), LINGER_MS).unref();
    if (!this.#queued) this.socket.end();
  }

  /** Negotiation is over: the slot goes to the next connection. */
  established(): void {
    this.#leaveGate();
  }

  #leaveGate(): void {
    this.pass?.release();
    this.pass = null;
  }

  destroy(): void {
    if (this.isClosed) return;
    this.socket.terminate();
  }

  /** Resolves once the socket is gone. */
  get closed(): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    if (!this.#closed) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#closed = { promise, resolve };
    }
    return this.#closed.promise;
  }

  /** The socket is gone (either layer): the stream learns it once. */
  gone(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.#leaveGate();
    this.#queue = [];
    this.#queued = 0;
    this.#closed?.resolve();
    if (!this.conn) return;
    this.listener.live.delete(this);
    this.conn.transportClosed();
  }
}

interface Listener {
  readonly traits: ListenerTraits;
  readonly tls: { cert: string; key: string };
  readonly live: Set<Link>;
}

const rawHandlers: SocketHandler<Link> = {
  data(socket, data) {
    // After STARTTLS the TLS layer reads the socket; nothing arrives here.
    const link = socket.data;
    if (!link.isUpgraded) link.conn?.input(data);
  },
  drain(socket) {
    const link = socket.data;
    if (!link.isUpgraded) link.flush();
  },
  close(socket) {
    socket.data.gone();
  },
  error(socket, err) {
    socket.data.host.log.debug({ ip: socket.data.ip, err: err.message }, "xmpp socket error");
  },
};

const tlsHandlers: SocketHandler<Link> = {
  handshake(socket, success, authorizationError) {
    const link = socket.data;
    // A server that asks for no client certificate always has an "authorization error"
    // (none was sent); only a failed handshake matters here.
    if (!success) {
      link.host.log.debug({ ip: link.ip, err: authorizationError?.message }, "xmpp TLS error");
      link.destroy();
      return;
    }
    if (!link.isSecured) {
      link.isSecured = true;
      link.conn?.secured();
    }
  },
  data(socket, data) {
    const link = socket.data;
    if (!link.isSecured) {
      // Data only flows after the handshake; should it ever come before, it still counts.
      link.isSecured = true;
      link.conn?.secured();
    }
    link.conn?.input(data);
  },
  drain(socket) {
    socket.data.flush();
  },
  close(socket) {
    socket.data.gone();
  },
  error(socket, err) {
    socket.data.host.log.debug({ ip: socket.data.ip, err: err.message }, "xmpp TLS error");
  },
};

export async function listen(host: ServerHost, options: ListenOptions): Promise<Listening> {
  const tls = { cert: options.tls.cert, key: options.tls.key };
  const gate = new NegotiationGate(() => host.limits, host.clock);
  const listeners: TCPSocketListener<Link>[] = [];
  const all: Listener[] = [];
  const open = (port: number, traits: ListenerTraits, label: string): number => {
    const listener: Listener = { traits, tls, live: new Set() };
    all.push(listener);
    const server = Bun.listen<Link>({
      hostname: options.host,
      port,
      socket: {
        ...rawHandlers,
        open(socket) {
          socket.setNoDelay(true);
          const link = new Link(socket, host, listener);
          socket.data = link;
          link.conn = attach(host, link, traits);
          if (!link.conn) return;
          listener.live.add(link);
          // Admitted and timed from now; read once a negotiation slot is free (at once, mostly).
          let isGranted = false;
          let isPaused = false;
          link.pass = gate.enter(() => {
            isGranted = true;
            if (isPaused) socket.resume();
          });
          if (!isGranted) {
            socket.pause();
            isPaused = true;
          }
        },
      },
    });
    listeners.push(server);
    host.log.info(`listening on ${label} ${options.host}:${server.port}`);
    return server.port;
  };
  const stopAll = async () => {
    for (const l of listeners) l.stop(false);
    const closing = all.flatMap((l) => [...l.live]);
    for (const link of closing) link.conn?.fail("system-shutdown", "the server is stopping");
    await Promise.all(closing.map((link) => link.closed));
  };
  try {
    const port = open(options.port, clientListener, "xmpp");
    const componentPort = options.componentPort === undefined ? undefined : open(options.componentPort, componentListener, "xmpp-component");
    return { port, componentPort, negotiations: gate, stop: stopAll, [Symbol.asyncDispose]: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
