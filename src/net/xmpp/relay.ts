/**
 * @module net/xmpp/relay
 * The embedded XMPP relay, assembled: accounts, router, the server's own JID as an
 * `AgentChannel`, and `listen` for sockets. The channel works before (and without) any
 * `listen`, so features can be tested in process. `disconnect(jid)` closes the JID's
 * streams with `not-authorized` when its account is gone or disabled (a ban) and
 * `policy-violation` otherwise.
 */
import type { Database } from "bun:sqlite";
import { systemClock, type Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import type { AgentChannel } from "../../protocol/channel.ts";
import { createAccounts, type Accounts } from "./accounts.ts";
import { createAgentChannel } from "./agent-channel.ts";
import { defaultFeatures, type Feature } from "./features/index.ts";
import { parseJid } from "./jid.ts";
import { AddressBook, defaultLimits, type RelayLimits } from "./limits.ts";
import { Router } from "./router.ts";
import { listen, type ListenOptions, type Listening, type ServerHost } from "./server.ts";
import type { Connection, ListenerTraits, Transport } from "./stream.ts";
import { attach, clientListener } from "./attach.ts";

export interface ComponentConfig {
  /** The component's domain, e.g. `pubsub.medulla.lan`. */
  name: string;
  secret: string;
}

export interface RelayOptions {
  db: Database;
  log: Logger;
  clock?: Clock;
  /** The XMPP domain; the server's own JID is `medulla@<domain>`. */
  domain: string;
  limits?: Partial<RelayLimits>;
  components?: ComponentConfig[];
  /** Extra IQ services answered by the server (ping, disco, session and roster are built in). */
  features?: Feature[];
  /** PBKDF2 iterations for new accounts (default 4096). */
  iterations?: number;
}

export interface RelayStats {
  connections: number;
  authenticated: number;
  bound: number;
  online: number;
  components: number;
  stanzasIn: number;
  authFailures: number;
  streamErrors: Record<string, number>;
}

export interface Relay {
  channel: AgentChannel;
  accounts: Accounts;
  listen(options: ListenOptions): Promise<Listening>;
  stats(): RelayStats;
  /** A stream over any transport (tests, a future WebSocket listener); null when refused. */
  accept(transport: Transport, traits?: ListenerTraits): Connection | null;
}

export function createRelay(options: RelayOptions): Relay {
  const clock = options.clock ?? systemClock;
  const domain = parseJid(options.domain)?.domain;
  if (!domain || domain !== options.domain.toLowerCase()) throw new Error(`invalid XMPP domain: ${options.domain}`);
  const limits: RelayLimits = { ...defaultLimits, ...options.limits };
  const accounts = createAccounts(options.db, clock, { iterations: options.iterations });
  const router = new Router(domain, clock, [...defaultFeatures, ...(options.features ?? [])], limits.maxResourcesPerAccount);
  const components = new Map((options.components ?? []).map((c) => [c.name.toLowerCase(), c.secret]));
  const connections = new Set<Connection>();
  const stats = { stanzasIn: 0, authFailures: 0, streamErrors: {} as Record<string, number> };
  const host: ServerHost = {
    domain, limits, clock, router, components, connections, stats,
    log: options.log,
    addresses: new AddressBook(limits, clock),
    lookup: (username) => accounts.credentials(username),
  };

  const channel = createAgentChannel({
    router, clock, log: options.log, requestTimeoutMs: limits.requestTimeoutMs,
    disconnect(jid, reason) {
      if (jid.domain !== domain && !components.has(jid.domain)) return;
      const account = jid.local ? accounts.get(jid.local) : null;
      const condition = jid.local && (!account || account.isDisabled) ? "not-authorized" : "policy-violation";
      const closing = router.connectionsOf(jid);
      if (closing.length) options.log.info({ jid: jid.full, reason, condition }, "xmpp disconnecting");
      for (const conn of closing) conn.fail(condition, reason);
    },
  });

  return {
    channel,
    accounts,
    listen: (o) => listen(host, o),
    accept: (transport, traits = clientListener) => attach(host, transport, traits),
    stats() {
      const all = [...connections];
      return {
        connections: all.length,
        authenticated: all.filter((c) => c.username && c.kind === "client").length,
        bound: all.filter((c) => c.jid && c.kind === "client").length,
        online: router.online().length,
        components: router.componentCount,
        stanzasIn: stats.stanzasIn,
        authFailures: stats.authFailures,
        streamErrors: { ...stats.streamErrors },
      };
    },
  };
}
