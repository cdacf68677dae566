/**
 * @module net/xmpp/router
 * Who is connected and where each stanza goes (RFC 6120 §10, RFC 6121 §8). Clients are
 * indexed by full and bare JID; a bare JID reaches its highest-priority available resource.
 * The server's own JID (`medulla@<domain>`) is not a connection: messages to it go to a
 * callback (the agent channel), IQs to it, to the domain or to an account go to the
 * feature handlers. Components get everything addressed to their domain. Nothing is stored
 * for later: a message or IQ to an address with no one behind it is answered with
 * `service-unavailable`, so the sender knows at once (docs/xmpp.md, "Offline").
 */
import type { Element } from "ltx";
import type { Clock } from "../../clock.ts";
import type { PresenceEvent } from "../../protocol/channel.ts";
import { NS } from "./codec.ts";
import { handleIq, type Feature } from "./features/index.ts";
import { parseJid, type Jid } from "./jid.ts";
import { isAnswerable, stanzaError, type StanzaCondition } from "./stanza.ts";
import type { Connection } from "./stream.ts";

const STANZAS = new Set(["message", "presence", "iq"]);
const IQ_TYPES = new Set(["get", "set", "result", "error"]);

export class Router {
  readonly serverJid: Jid;
  #sessions = new Map<string, Connection>();
  #byBare = new Map<string, Set<Connection>>();
  #components = new Map<string, Connection>();
  #presenceListeners: ((e: PresenceEvent) => void)[] = [];
  /** Messages addressed to the server's own JID. */
  onServerMessage: (message: Element, from: Jid) => void = () => {};

  constructor(
    readonly domain: string,
    private readonly clock: Clock,
    private readonly features: readonly Feature[],
    private readonly maxResources: number,
  ) {
    this.serverJid = parseJid(`medulla@${domain}`)!;
  }

  onPresence(listener: (e: PresenceEvent) => void): void {
    this.#presenceListeners.push(listener);
  }

  /** Binds a client's full JID; a session already on it is replaced (`conflict`). */
  bind(conn: Connection, jid: Jid): StanzaCondition | null {
    const old = this.#sessions.get(jid.full);
    if (old && old !== conn) old.fail("conflict", "replaced by a new connection");
    const set = this.#byBare.get(jid.bare) ?? new Set<Connection>();
    if (set.size >= this.maxResources) return "resource-constraint";
    conn.jid = jid;
    this.#sessions.set(jid.full, conn);
    this.#byBare.set(jid.bare, set.add(conn));
    return null;
  }

  attachComponent(conn: Connection, jid: Jid): boolean {
    if (this.#components.has(jid.domain)) return false;
    conn.jid = jid;
    this.#components.set(jid.domain, conn);
    return true;
  }

  unbind(conn: Connection): void {
    const jid = conn.jid;
    if (!jid) return;
    if (conn.kind === "component") {
      if (this.#components.get(jid.domain) === conn) this.#components.delete(jid.domain);
      return;
    }
    if (conn.isAvailable) this.#setAvailable(conn, false);
    if (this.#sessions.get(jid.full) === conn) this.#sessions.delete(jid.full);
    const set = this.#byBare.get(jid.bare);
    set?.delete(conn);
    if (set?.size === 0) this.#byBare.delete(jid.bare);
  }

  /** Available bare JIDs. */
  online(): string[] {
    return [...this.#byBare].filter(([, set]) => [...set].some((c) => c.isAvailable)).map(([bare]) => bare);
  }

  isOnline(jid: Jid): boolean {
    if (jid.resource) return this.#sessions.get(jid.full)?.isAvailable ?? false;
    return [...(this.#byBare.get(jid.bare) ?? [])].some((c) => c.isAvailable);
  }

  /** The connections of a bare or full JID (for `disconnect`). */
  connectionsOf(jid: Jid): Connection[] {
    if (jid.resource) return [this.#sessions.get(jid.full)].filter((c): c is Connection => !!c);
    return jid.local ? [...(this.#byBare.get(jid.bare) ?? [])] : [this.#components.get(jid.domain)].filter((c): c is Connection => !!c);
  }

  get componentCount(): number {
    return this.#components.size;
  }

  fromClient(conn: Connection, stanza: Element, ns: string): void {
    if (!this.#isStanza(conn, stanza, ns)) return;
    const claimed = stanza.attrs.from;
    if (claimed && !this.#isSameEntity(claimed, conn.jid!)) return conn.fail("invalid-from", "the from address is not yours");
    stanza.attrs.from = conn.jid!.full;
    this.#route(stanza, conn);
  }

  fromComponent(conn: Connection, stanza: Element, ns: string): void {
    if (!this.#isStanza(conn, stanza, ns)) return;
    const from = parseJid(stanza.attrs.from ?? "");
    if (!from || from.domain !== conn.jid!.domain) return conn.fail("invalid-from", `stanzas must come from ${conn.jid!.domain}`);
    if (!stanza.attrs.to) return conn.fail("improper-addressing", "stanzas need a to address");
    stanza.attrs.from = from.full;
    this.#route(stanza, conn);
  }

  /** A stanza of the server's own (from its JID); false when no one can take it. */
  fromServer(stanza: Element): boolean {
    return this.#route(stanza, null);
  }

  #isStanza(conn: Connection, stanza: Element, ns: string): boolean {
    const isKnown = STANZAS.has(stanza.name) && (ns === NS.client || ns === NS.component);
    if (!isKnown) conn.fail("unsupported-stanza-type", `<${stanza.name.slice(0, 64)}> is not a stanza this server handles`);
    return isKnown;
  }

  #isSameEntity(claimed: string, jid: Jid): boolean {
    const c = parseJid(claimed);
    return !!c && (c.full === jid.full || c.full === jid.bare);
  }

  /** Delivers `stanza` (its from already trusted); true when someone took it. */
  #route(stanza: Element, sender: Connection | null): boolean {
    const kind = stanza.name;
    if (kind === "iq" && (!stanza.attrs.id || !IQ_TYPES.has(stanza.attrs.type ?? ""))) return this.#bounce(stanza, sender, "bad-request");
    const from = parseJid(stanza.attrs.from ?? "") ?? this.serverJid;
    const toText = stanza.attrs.to;
    const to = toText ? parseJid(toText) : null;
    if (toText && !to) return this.#bounce(stanza, sender, "jid-malformed");
    if (to) stanza.attrs.to = to.full;

    if (!to || to.domain === this.domain) {
      const isServer = !to || !to.local || to.bare === this.serverJid.bare;
      if (kind === "presence" && (isServer || to?.bare === from.bare)) return this.#presence(stanza, sender);
      if (kind === "iq" && (!to || !to.resource || to.bare === this.serverJid.bare)) return this.#localIq(stanza, from, sender);
      if (kind === "message" && to?.bare === this.serverJid.bare) {
        this.onServerMessage(stanza, from);
        return true;
      }
      if (isServer) return this.#bounce(stanza, sender, "service-unavailable");
      return this.#toAccount(stanza, to!, sender);
    }
    const component = this.#components.get(to.domain);
    if (component) return this.#deliver(component, stanza);
    if (kind === "presence") return false;
    return this.#bounce(stanza, sender, to.domain.endsWith(`.${this.domain}`) ? "service-unavailable" : "remote-server-not-found");
  }

  #toAccount(stanza: Element, to: Jid, sender: Connection | null): boolean {
    const kind = stanza.name;
    const exact = to.resource ? this.#sessions.get(to.full) : undefined;
    if (exact) return this.#deliver(exact, stanza);
    if (kind === "presence") {
      const targets = [...(this.#byBare.get(to.bare) ?? [])].filter((c) => c.isAvailable && !to.resource);
      for (const c of targets) this.#deliver(c, stanza);
      return targets.length > 0;
    }
    const type = stanza.attrs.type ?? "normal";
    if (kind === "message" && (type === "chat" || type === "normal" || type === "error")) {
      const best = this.#best(to.bare);
      if (best) return this.#deliver(best, stanza);
    }
    if (kind === "message" && (type === "groupchat" || type === "headline")) return false;
    return this.#bounce(stanza, sender, "service-unavailable");
  }

  /** The highest-priority available resource (RFC 6121 §8.5.2.1.1; ties: the latest). */
  #best(bare: string): Connection | null {
    let best: Connection | null = null;
    for (const c of this.#byBare.get(bare) ?? []) if (c.isAvailable && c.priority >= 0 && (!best || c.priority >= best.priority)) best = c;
    return best;
  }

  #deliver(conn: Connection, stanza: Element): boolean {
    conn.send(stanza);
    return true;
  }

  #bounce(stanza: Element, sender: Connection | null, condition: StanzaCondition): boolean {
    if (sender && isAnswerable(stanza) && stanza.name !== "presence") {
      const reply = stanzaError(stanza, condition);
      if (!reply.attrs.from) reply.attrs.from = this.domain;
      sender.send(reply);
    }
    return false;
  }

  #presence(stanza: Element, sender: Connection | null): boolean {
    if (!sender || sender.kind !== "client") return false;
    const type = stanza.attrs.type;
    if (type === undefined) {
      const priority = Number.parseInt(stanza.getChildText("priority") ?? "0", 10);
      sender.priority = Number.isFinite(priority) ? Math.max(-128, Math.min(127, priority)) : 0;
      this.#setAvailable(sender, true);
    } else if (type === "unavailable") this.#setAvailable(sender, false);
    return true;
  }

  #setAvailable(conn: Connection, available: boolean): void {
    const bare = conn.jid!.bare;
    const wasOnline = this.isOnline(this.#bareJid(bare));
    conn.isAvailable = available;
    const isOnline = this.isOnline(this.#bareJid(bare));
    if (wasOnline === isOnline) return;
    const event: PresenceEvent = { jid: bare, available: isOnline, ip: conn.ip, at: this.clock.now() };
    for (const l of this.#presenceListeners) l(event);
  }

  #bareJid(bare: string): Jid {
    return parseJid(bare)!;
  }

  #localIq(iq: Element, from: Jid, sender: Connection | null): boolean {
    const type = iq.attrs.type;
    if (type === "result" || type === "error") return true;
    const reply = handleIq(iq, { from, domain: this.domain, features: this.features });
    if (sender) sender.send(reply);
    return true;
  }
}
