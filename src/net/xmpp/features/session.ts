/**
 * @module net/xmpp/features/session
 * The RFC 3921 session IQ: meaningless since RFC 6120, still sent by older clients; we
 * advertise it as optional and answer it with an empty result.
 */
import { NS } from "../codec.ts";
import type { Feature } from "./index.ts";

export const session: Feature = { ns: NS.session, set: () => undefined };
