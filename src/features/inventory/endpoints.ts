/**
 * @module inventory/endpoints
 * The write side of the inventory, wired: `POST /inventory` (FusionInventory and GLPI
 * agents, ./glpi-server.ts), `POST /api/v1/agents/inventory` (our agent), the "request
 * inventory" action, and the settings of who may post. The two posting routes are agents'
 * routes, not users': they authenticate their callers themselves (./auth.ts) and read
 * their body themselves, compressed and larger than the default limit, so they are
 * mounted without the session guard and without Elysia's body parser, with their own
 * body limit (`web.limitBody`); they are still declared in the registry.
 */
import { Type } from "@sinclair/typebox";
import type { MessageKey } from "../../i18n/index.ts";
import type { AgentChannel } from "../../protocol/channel.ts";
import type { Web } from "../../web/app.tsx";
import { ctxOf } from "../../web/context.ts";
import { json } from "../../web/respond.ts";
import type { EntitiesService } from "../entities/service.ts";
import type { MachinesService } from "../machines/service.ts";
import { viewerOf } from "../users/index.tsx";
import { createInventoryAuth, PostRefused, type AgentAccountStore } from "./auth.ts";
import { compressionOf, inflate } from "./body.ts";
import { checkGlpi, normalize, parseJsonObject } from "./glpi.ts";
import { createInventoryPostHandler } from "./glpi-server.ts";
import { LIMITS } from "./normalized.ts";
import { createInventoryRequests } from "./request.ts";
import { createInventoryImport, sha256Hex } from "./service.ts";
import { createInventorySettings } from "./settings.ts";

export interface InventoryImportDeps {
  machines: MachinesService;
  entities: EntitiesService;
  channel: AgentChannel;
  accounts: AgentAccountStore;
}

/** A POST route for agents: no session guard, no body parsing, its own body limit. */
function agentRoute(web: Web, path: string, handle: (request: Request, ip: string) => Promise<Response>): void {
  web.deps.registry.route({ method: "POST", path, permission: "public", kind: "action" });
  web.limitBody(path, LIMITS.compressedBytes);
  web.app.route("POST", path, ({ request }: { request: Request }) => {
    const ctx = ctxOf(request);
    // Plain HTTP carries inventories from allowed networks only: a password or the
    // inventory key would travel in clear, so credentials are refused there.
    if (!ctx.isHttps && request.headers.has("authorization")) {
      web.deps.log.warn({ ip: ctx.ip, path }, "inventory credentials refused over plain HTTP");
      return new Response("credentials are refused over plain HTTP: post to the HTTPS address\n", { status: 403, headers: { "content-type": "text/plain; charset=utf-8" } });
    }
    return handle(request, ctx.ip);
  }, { parse: "none" });
}

export function registerInventoryImport(web: Web, deps: InventoryImportDeps) {
  const { registry, db, clock, recorder, log } = web.deps;
  const p = (key: string, label: MessageKey) => registry.permission({ key, category: "perm.category.inventory", label });
  const perms = { request: p("inventory.request", "perm.inventory.request"), settings: p("inventory.settings", "perm.inventory.settings") };
  const settings = createInventorySettings({ db, clock, recorder, entities: deps.entities });
  const importer = createInventoryImport({ db, clock, log, recorder, machines: deps.machines, newMachineEntity: settings.entityForNewMachines });
  const auth = createInventoryAuth({ accounts: deps.accounts, machines: deps.machines, settings, clock, log });
  const requests = createInventoryRequests({ machines: deps.machines, channel: deps.channel, recorder });

  agentRoute(web, "/inventory", createInventoryPostHandler({ auth, importer, log }));

  // Our agent: its GLPI-format JSON, gzip (Content-Encoding), or `{ "unchanged": "<sha256>" }`.
  agentRoute(web, "/api/v1/agents/inventory", async (request, ip) => {
    let agent;
    try {
      agent = auth.agentOnly(request.headers, ip);
    } catch (err) {
      if (!(err instanceof PostRefused)) throw err;
      const code = err.status === 401 ? "unauthorized" : "forbidden";
      return json({ error: { code, message: err.reason } }, err.status, err.status === 401 ? { "www-authenticate": 'Basic realm="Medulla agents"' } : {});
    }
    const raw = new Uint8Array(await request.arrayBuffer());
    const bytes = await inflate(raw, compressionOf(request.headers, raw));
    const text = new TextDecoder().decode(bytes);
    const value = parseJsonObject(text);
    if (typeof value.unchanged === "string" && Object.keys(value).length === 1) {
      const r = importer.touchUnchanged(agent.machineId, value.unchanged, ip);
      return json({ status: "ok", changes: r.changes });
    }
    const r = importer.importInventory({
      normalized: normalize(checkGlpi(value)), document: text, hash: sha256Hex(bytes), source: "agent", agentName: agent.jid, ip, knownMachineId: agent.machineId,
    });
    return json({ status: "ok", changes: r.changes });
  });

  web.api({
    method: "POST", path: "/api/v1/machines/:id/inventory-request", permission: perms.request, tags: ["inventory"],
    summary: "Ask an online agent to send its inventory now",
    description: "The agent answers at once whether it accepted, then posts its inventory over HTTPS. 409 when the machine is offline.",
    params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
    body: Type.Object({ force: Type.Optional(Type.Boolean({ description: "A full inventory even when nothing changed" })) }),
    response: Type.Object({ accepted: Type.Boolean(), reason: Type.Optional(Type.String()) }),
    handler: ({ ctx, params, body }) => requests.request(viewerOf(ctx), params.id, body.force ?? false, ctx.ip),
  });

  const Settings = Type.Object({
    hasKey: Type.Boolean({ description: "Whether an inventory key is set (it is never shown again)" }),
    networks: Type.Array(Type.String(), { description: "Networks (CIDR) that may post without credentials" }),
    entityId: Type.Integer({ description: "Entity of machines first seen by an inventory" }),
    key: Type.Optional(Type.String({ description: "The key just generated (generateKey), shown once" })),
  });
  web.api({
    method: "GET", path: "/api/v1/inventory/settings", permission: perms.settings, tags: ["inventory"], summary: "Who may post inventories",
    response: Settings,
    handler: () => settings.current(),
  });
  web.api({
    method: "PUT", path: "/api/v1/inventory/settings", permission: perms.settings, tags: ["inventory"], summary: "Change who may post inventories",
    description: "`key`: a new inventory key (16 to 256 characters), or null to remove it; `generateKey`: a random one, returned once; `networks`: CIDR list (empty: none); `entityId`.",
    body: Type.Object({
      key: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
      generateKey: Type.Optional(Type.Boolean()),
      networks: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 256 })),
      entityId: Type.Optional(Type.Integer({ minimum: 1 })),
    }),
    response: Settings,
    handler: ({ ctx, body }) => settings.update(viewerOf(ctx), body, ctx.ip),
  });

  return { importer, requests, settings, perms };
}
