/**
 * The parts of xmpp.js 0.14 (installed by @xmpp/client, which ships no types) that the agent
 * composes into its client, typed as far as we use them.
 */
declare module "@xmpp/xml" {
  export class Element {
    name: string;
    attrs: Record<string, string | undefined>;
    children: (Element | string)[];
    constructor(name: string, attrs?: Record<string, unknown>);
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    getNS(): string;
    text(): string;
    toString(): string;
  }
  type Child = Element | string | undefined | null | false;
  /** Streaming parser: "start" (the stream header), "element" (each top-level child), "end", "error". */
  export class Parser {
    write(data: string): void;
    on(event: "start" | "element" | "end", fn: (el: Element) => void): this;
    on(event: "error", fn: (err: Error) => void): this;
  }
  function xml(name: string, attrs?: Record<string, unknown> | null, ...children: (Child | Child[])[]): Element;
  export default xml;
}

declare module "@xmpp/jid" {
  export interface JID {
    local: string;
    domain: string;
    resource: string;
    bare(): JID;
    toString(): string;
  }
  export default function jid(local: string, domain?: string, resource?: string): JID;
}

declare module "@xmpp/events" {
  import { EventEmitter } from "node:events";
  export { EventEmitter };
  export function promise<T = unknown>(target: EventEmitter, event: string, rejectEvent?: string | null, timeout?: number): Promise<T>;
  export class TimeoutError extends Error {}
}

declare module "@xmpp/client-core" {
  import { EventEmitter } from "node:events";
  import type { Element } from "@xmpp/xml";
  import type { JID } from "@xmpp/jid";
  export class Client extends EventEmitter {
    constructor(options: { service: string; domain: string; timeout?: number; lang?: string });
    jid: JID | null;
    status: string;
    timeout: number;
    transports: unknown[];
    socket: (EventEmitter & { secure?: boolean; destroy?: () => void; socket?: { destroy(): void } | null }) | null;
    options: { service: string; domain: string; lang?: string };
    isSecure(): boolean;
    start(): Promise<JID>;
    connect(service: string): Promise<void>;
    open(options: { domain: string; lang?: string }): Promise<Element>;
    stop(): Promise<unknown>;
    disconnect(): Promise<unknown>;
    restart(): Promise<unknown>;
    send(element: Element): Promise<void>;
    sendReceive(element: Element, timeout?: number): Promise<Element>;
    _attachSocket(socket: unknown): void;
  }
}

declare module "@xmpp/tcp/lib/Connection.js" {
  export default class ConnectionTCP {
    socketParameters(service: string): { port: number | null; host: string; localAddress?: string } | undefined;
  }
}

declare module "@xmpp/tls/lib/Socket.js" {
  import { EventEmitter } from "node:events";
  import type { ConnectionOptions } from "node:tls";
  export default class Socket extends EventEmitter {
    secure: true;
    socket: import("node:tls").TLSSocket | null;
    connect(options: ConnectionOptions): void;
  }
}

declare module "@xmpp/middleware" {
  import type { Client } from "@xmpp/client-core";
  import type { Element } from "@xmpp/xml";
  export interface Context {
    entity: Client;
    stanza: Element;
    name: string;
    type?: string;
    id?: string;
    from?: unknown;
  }
  export type Middleware = (ctx: Context, next: () => Promise<unknown>) => unknown;
  export interface MiddlewareApi {
    use(fn: Middleware): Middleware;
    filter(fn: Middleware): Middleware;
  }
  export default function middleware(o: { entity: Client }): MiddlewareApi;
}

declare module "@xmpp/stream-features" {
  import type { MiddlewareApi, Context } from "@xmpp/middleware";
  import type { Element } from "@xmpp/xml";
  export interface StreamFeatures {
    use(name: string, xmlns: string, handler: (ctx: Context, next: () => Promise<unknown>, feature: Element) => unknown): void;
  }
  export default function streamFeatures(o: { middleware: MiddlewareApi }): StreamFeatures;
}

declare module "@xmpp/iq/caller.js" {
  import type { Client } from "@xmpp/client-core";
  import type { MiddlewareApi } from "@xmpp/middleware";
  import type { Element } from "@xmpp/xml";
  export interface IqCaller {
    request(stanza: Element, timeout?: number): Promise<Element>;
    get(element: Element, to?: string, timeout?: number): Promise<Element>;
  }
  export default function iqCaller(o: { middleware: MiddlewareApi; entity: Client }): IqCaller;
}

declare module "@xmpp/iq/callee.js" {
  import type { Client } from "@xmpp/client-core";
  import type { MiddlewareApi, Context } from "@xmpp/middleware";
  export interface IqCallee {
    get(ns: string, name: string, handler: (ctx: Context) => unknown): void;
  }
  export default function iqCallee(o: { middleware: MiddlewareApi; entity: Client }): IqCallee;
}

declare module "@xmpp/sasl" {
  import type { Client } from "@xmpp/client-core";
  import type { StreamFeatures } from "@xmpp/stream-features";
  export type Authenticate = (credentials: Record<string, unknown>, mechanism: string) => Promise<void>;
  export default function sasl(
    o: { streamFeatures: StreamFeatures; saslFactory: unknown },
    onAuthenticate: (authenticate: Authenticate, mechanisms: string[], fast: unknown, entity: Client) => Promise<void>,
  ): void;
}

declare module "@xmpp/resource-binding" {
  import type { StreamFeatures } from "@xmpp/stream-features";
  import type { IqCaller } from "@xmpp/iq/caller.js";
  export default function resourceBinding(o: { streamFeatures: StreamFeatures; iqCaller: IqCaller }, resource?: string): void;
}

declare module "saslmechanisms" {
  export default class Factory {
    use(name: string, mech: new () => unknown): this;
  }
}
