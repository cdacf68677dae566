/** @module net/xmpp/features/ping — XEP-0199: the server answers a ping with an empty result. */
import { NS } from "../codec.ts";
import type { Feature } from "./index.ts";

export const ping: Feature = { ns: NS.ping, get: () => undefined };
