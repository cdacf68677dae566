/**
 * @module net/xmpp/features/disco
 * XEP-0030 disco#info: the server's identity and the namespaces its features answer.
 */
import { el, NS } from "../codec.ts";
import type { Feature } from "./index.ts";

export const disco: Feature = {
  ns: NS.discoInfo,
  get: (payload, ctx) => {
    if (payload.attrs.node) return { error: "item-not-found" };
    const query = el("query", { xmlns: NS.discoInfo }, el("identity", { category: "server", type: "im", name: "Medulla relay" }));
    for (const ns of new Set(ctx.features.map((f) => f.ns))) query.cnode(el("feature", { var: ns }));
    return query;
  },
};
