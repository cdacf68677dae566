/**
 * @module web/openapi
 * `GET /api/v1/openapi.json`: an OpenAPI 3.1 document built at request time from the
 * registry's "api" routes and the schemas they were declared with (./api.ts), so the
 * document cannot drift from what the routes accept and answer. Routes declared without
 * schemas (e.g. /healthz) appear with their method, path and security only.
 */
import type { TSchema } from "@sinclair/typebox";
import type { Web } from "./app.tsx";
import { ApiError, type ApiSpec } from "./api.ts";
import { json } from "./respond.ts";

type AnySpec = ApiSpec<TSchema, TSchema, TSchema, TSchema>;
type Json = Record<string, unknown>;

/** A TypeBox schema as plain JSON Schema: its symbol-keyed markers dropped, `$id`s kept out of line. */
function plain(schema: TSchema): Json {
  const { $id: _id, ...rest } = JSON.parse(JSON.stringify(schema)) as Json;
  return rest;
}

export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

function parameters(schema: TSchema | undefined, where: "path" | "query"): Json[] {
  const props = (schema as { properties?: Record<string, TSchema> } | undefined)?.properties ?? {};
  const required = new Set((schema as { required?: string[] } | undefined)?.required ?? []);
  return Object.entries(props).map(([name, s]) => {
    const { description, ...rest } = plain(s);
    return { name, in: where, required: where === "path" || required.has(name), ...(description ? { description } : {}), schema: rest };
  });
}

function operation(spec: AnySpec | undefined, route: { method: string; path: string; permission: string | null }): Json {
  const isPublic = route.permission === "public";
  const errors = { $ref: "#/components/responses/Error" };
  const op: Json = {
    operationId: `${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
    summary: spec?.summary ?? `${route.method} ${route.path}`,
    security: isPublic ? [] : [{ bearer: [] }, { cookie: [] }],
  };
  if (spec?.description) op.description = spec.description;
  if (route.permission && !isPublic) op["x-permission"] = route.permission;
  if (spec?.tags?.length) op.tags = spec.tags;
  const params = [...parameters(spec?.params, "path"), ...parameters(spec?.query, "query")];
  if (params.length) op.parameters = params;
  if (spec?.body) op.requestBody = { required: true, content: { "application/json": { schema: plain(spec.body) } } };
  const status = String(spec?.status ?? 200);
  const ok: Json = { description: status === "204" ? "No content" : "Success" };
  if (spec?.response && status !== "204") ok.content = { "application/json": { schema: plain(spec.response) } };
  op.responses = { [status]: ok, ...(spec?.body || spec?.query || spec?.params ? { "422": errors } : {}), ...(isPublic ? {} : { "401": errors, "403": errors }), default: errors };
  return op;
}

export function openApiDocument(web: Web): Json {
  const specs = new Map(web.apiSpecs.map((s) => [`${s.method} ${s.path}`, s]));
  const paths: Record<string, Json> = {};
  const tags = new Set<string>();
  for (const route of web.deps.registry.routes) {
    if (route.kind !== "api") continue;
    const spec = specs.get(`${route.method} ${route.path}`);
    for (const tag of spec?.tags ?? []) tags.add(tag);
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(spec, route) };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Medulla API",
      version: web.deps.version,
      description: "Everything an administrator does in pages, over HTTP with a bearer token. See docs/api.md.",
    },
    servers: [{ url: "/" }],
    tags: [...tags].sort().map((name) => ({ name })),
    paths,
    components: {
      schemas: { Error: plain(ApiError) },
      responses: { Error: { description: "Error", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } } },
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "An API token from POST /api/v1/tokens; no cookie, no CSRF token." },
        cookie: {
          type: "apiKey", in: "cookie", name: "medulla_session",
          description: "A browser session; unsafe methods also need its CSRF token in the X-CSRF-Token header.",
        },
      },
    },
  };
}

export function registerOpenApi(web: Web): void {
  web.api({
    method: "GET", path: "/api/v1/openapi.json", permission: "public", summary: "This document (OpenAPI 3.1)", tags: ["meta"],
    handler: () => json(openApiDocument(web)),
  });
}
