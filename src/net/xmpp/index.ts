/**
 * @module net/xmpp
 * The embedded XMPP relay (docs/xmpp.md): `createRelay` gives the `AgentChannel` the
 * server's logic uses, the account store, and `listen` for the TCP port(s).
 */
export { createRelay, type ComponentConfig, type Relay, type RelayOptions, type RelayStats } from "./relay.ts";
export { AgentNotConnected, RequestTimeout } from "./agent-channel.ts";
export { createAccounts, InvalidUsername, type Accounts, type AccountRow } from "./accounts.ts";
export { defaultLimits, type RelayLimits } from "./limits.ts";
export type { ListenOptions, Listening } from "./server.ts";
export type { ListenerTraits, Transport } from "./stream.ts";
export { handshakeDigest } from "./component.ts";
export { deriveCredentials, ScramClient } from "./scram.ts";
export type { Feature } from "./features/index.ts";
