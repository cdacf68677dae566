/**
 * @module protocol/actions
 * Every action of the agent protocol, declared once with the schema of its `data` and of
 * its reply's `data` (TypeBox: JSON Schema and a static type from one declaration). The
 * server and the agent both import this; docs/protocol.md describes the same list.
 */
import { Type, type Static } from "@sinclair/typebox";

const Str = (max = 255) => Type.String({ maxLength: max });

export const MachineFacts = Type.Object(
  {
    agentId: Str(64),
    agentVersion: Str(32),
    hostname: Str(255),
    os: Type.Union([Type.Literal("linux"), Type.Literal("windows"), Type.Literal("darwin"), Type.Literal("other")]),
    osName: Str(255),
    osVersion: Str(100),
    arch: Str(32),
    ips: Type.Array(Str(64), { maxItems: 64 }),
    macs: Type.Array(Str(32), { maxItems: 64 }),
    loggedUser: Str(255),
    uptimeSeconds: Type.Integer({ minimum: 0 }),
    uuid: Type.Optional(Str(64)),
    serial: Type.Optional(Str(128)),
    manufacturer: Type.Optional(Str(128)),
  },
  { additionalProperties: true },
);
export type MachineFacts = Static<typeof MachineFacts>;

export const actions = {
  /** Agent → server right after connecting, and whenever its facts change. */
  announce: { data: MachineFacts, result: Type.Object({ machineId: Type.Integer() }, { additionalProperties: true }) },
  /** Server → agent (or agent → server): are you there? */
  ping: { data: Type.Object({}, { additionalProperties: true }), result: Type.Object({ time: Type.Integer() }, { additionalProperties: true }) },
  /** Server → agent: the agent's version and build. */
  agentversion: { data: Type.Object({}, { additionalProperties: true }), result: Type.Object({ version: Str(32), os: Str(32), arch: Str(32) }, { additionalProperties: true }) },
  /**
   * Server → agent: collect and post an inventory now. The agent answers at once (accepted
   * or not, and why), then posts the inventory over HTTPS (DESIGN.md: large payloads never
   * travel over XMPP); `force` sends a full inventory even when nothing changed.
   */
  inventory: {
    data: Type.Object({ force: Type.Optional(Type.Boolean()) }, { additionalProperties: true }),
    result: Type.Object({ accepted: Type.Boolean(), reason: Type.Optional(Str(255)) }, { additionalProperties: true }),
  },
  /** Server → agent: the facts the Computers view needs, now. */
  machinefacts: { data: Type.Object({}, { additionalProperties: true }), result: MachineFacts },
} as const;

export type ActionName = keyof typeof actions;
export type ActionData<A extends ActionName> = Static<(typeof actions)[A]["data"]>;
export type ActionResult<A extends ActionName> = Static<(typeof actions)[A]["result"]>;
