/**
 * @module net/xmpp/features/roster
 * Agents have no contacts: the roster is always empty and cannot be changed. Answering
 * keeps general-purpose clients (which fetch it on login) happy.
 */
import { el, NS } from "../codec.ts";
import type { Feature } from "./index.ts";

export const roster: Feature = {
  ns: NS.roster,
  get: () => el("query", { xmlns: NS.roster }),
  set: () => ({ error: "not-allowed", text: "rosters are not kept on this server" }),
};
