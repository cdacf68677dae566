/**
 * @module inventory/glpi-server
 * `POST /inventory` answered as a GLPI server answers the agents shops already run.
 * FusionInventory (XML, OCS protocol): a PROLOG gets `<RESPONSE>SEND</RESPONSE>` (send your
 * inventory, and come back in 24 h), an INVENTORY is stored and gets `<REPLY></REPLY>`.
 * The GLPI agent (JSON): `{"action":"contact"}` gets the inventory task (any other task it
 * has enabled is disabled: we serve only inventories), `{"action":"inventory"}` is stored
 * and gets `{"status":"ok"}`. Every answer is compressed the way the request was (zlib,
 * gzip, or plain) since the agents decode by that. Refusals are answered in the agent's
 * own format with the reason, which the agents write to their log; they go to ours too.
 */
import { escapeXML } from "ltx";
import { Forbidden } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { VERSION } from "../../version.ts";
import { PostRefused, type InventoryAuth, type Poster } from "./auth.ts";
import { compressionOf, encodeAnswer, inflate, type Compression } from "./body.ts";
import { parseFusion } from "./fusion.ts";
import { checkGlpi, normalize, parseJsonObject } from "./glpi.ts";
import { InventoryError } from "./normalized.ts";
import { sha256Hex, type ImportRequest, type InventoryImport } from "./service.ts";

/** Hours before the agent's next contact (PROLOG_FREQ, expiration): daily, as GLPI's default. */
export const CONTACT_HOURS = 24;

export interface InventoryPostDeps {
  auth: InventoryAuth;
  importer: InventoryImport;
  log: Logger;
}

function answer(body: string, compression: Compression, type: "application/xml" | "application/json", status = 200): Response {
  const encoded = encodeAnswer(body, compression, type);
  return new Response(encoded.body, { status, headers: { "content-type": encoded.type } });
}

const xml = (body: string, compression: Compression, status = 200) => answer(`<?xml version="1.0" encoding="UTF-8" ?>\n${body}`, compression, "application/xml", status);
const json = (body: unknown, compression: Compression, status = 200) => answer(JSON.stringify(body), compression, "application/json", status);

/** Why an inventory could not be stored, and the status that says so; anything else is a bug and goes up. */
function refusalOf(err: unknown): { status: number; reason: string } {
  if (err instanceof InventoryError) return { status: err.status, reason: err.reason };
  if (err instanceof Forbidden) return { status: 403, reason: "this machine is banned" };
  throw err;
}

export function createInventoryPostHandler(deps: InventoryPostDeps) {
  function store(req: Omit<ImportRequest, "source" | "agentName" | "knownMachineId">, poster: Poster, source: "fusioninventory" | "glpi-agent") {
    const isAgent = poster.kind === "agent";
    return deps.importer.importInventory({
      ...req, source: isAgent ? "agent" : source, agentName: isAgent ? poster.jid : req.normalized.identity.deviceId,
      ...(isAgent && { knownMachineId: poster.machineId }),
    });
  }

  function fusion(bytes: Uint8Array, poster: Poster, headers: Headers, ip: string, compression: Compression): Response {
    try {
      const msg = parseFusion(bytes);
      if (msg.query === "PROLOG") return xml(`<REPLY><RESPONSE>SEND</RESPONSE><PROLOG_FREQ>${CONTACT_HOURS}</PROLOG_FREQ></REPLY>`, compression);
      if (msg.isRecovered) deps.log.warn({ ip, deviceId: msg.deviceId }, "inventory declared UTF-8 but was not: read as Windows-1252");
      const normalized = normalize(msg.document);
      const isGlpiAgent = headers.has("glpi-agent-id") || /^glpi-agent/i.test(normalized.agentVersion);
      store({ normalized, document: JSON.stringify(msg.document), hash: sha256Hex(bytes), ip }, poster, isGlpiAgent ? "glpi-agent" : "fusioninventory");
      return xml("<REPLY></REPLY>", compression);
    } catch (err) {
      const { status, reason } = refusalOf(err);
      deps.log.warn({ ip, status, reason }, "inventory refused (XML)");
      return xml(`<REPLY><ERROR>${escapeXML(reason)}</ERROR></REPLY>`, compression, status);
    }
  }

  function glpi(bytes: Uint8Array, poster: Poster, ip: string, compression: Compression): Response {
    try {
      const text = new TextDecoder().decode(bytes);
      const value = parseJsonObject(text);
      if (value.action === "contact") {
        const enabled = Array.isArray(value["enabled-tasks"]) ? value["enabled-tasks"].filter((t): t is string => typeof t === "string") : [];
        const disabled = enabled.filter((t) => t.toLowerCase() !== "inventory").slice(0, 64);
        return json({ status: "ok", expiration: CONTACT_HOURS, tasks: { inventory: { server: "glpi", version: VERSION } }, ...(disabled.length && { disabled }) }, compression);
      }
      if (value.action !== "inventory" || (value.itemtype !== undefined && value.itemtype !== "Computer")) {
        throw new InventoryError("unsupported", `action ${String(value.action).slice(0, 32)}${value.itemtype ? ` for ${String(value.itemtype).slice(0, 32)}` : ""} is not supported: this server takes computer inventories`);
      }
      const normalized = normalize(checkGlpi(value));
      store({ normalized, document: text, hash: sha256Hex(bytes), ip }, poster, "glpi-agent");
      return json({ status: "ok", expiration: CONTACT_HOURS }, compression);
    } catch (err) {
      const { status, reason } = refusalOf(err);
      deps.log.warn({ ip, status, reason }, "inventory refused (JSON)");
      return json({ status: "error", message: reason, expiration: CONTACT_HOURS }, compression, status);
    }
  }

  return async function handle(request: Request, ip: string): Promise<Response> {
    let poster: Poster;
    try {
      poster = await deps.auth.poster(request.headers, ip);
    } catch (err) {
      if (!(err instanceof PostRefused)) throw err;
      const headers: Record<string, string> = { "content-type": "text/plain; charset=utf-8" };
      if (err.status === 401) headers["www-authenticate"] = 'Basic realm="Medulla inventory"';
      return new Response(`${err.reason}\n`, { status: err.status, headers });
    }
    const raw = new Uint8Array(await request.arrayBuffer());
    const compression = compressionOf(request.headers, raw);
    let bytes: Uint8Array;
    try {
      bytes = await inflate(raw, compression);
    } catch (err) {
      const { status, reason } = refusalOf(err);
      deps.log.warn({ ip, status, reason }, "inventory refused");
      return new Response(`${reason}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
    }
    const first = new TextDecoder().decode(bytes.subarray(0, 64)).replace(/^[\s\uFEFF]+/, "")[0];
    if (first === "{") return glpi(bytes, poster, ip, compression);
    // XML: '<', or a UTF-16 byte-order mark the decoder turned into something else.
    return fusion(bytes, poster, request.headers, ip, compression);
  };
}
