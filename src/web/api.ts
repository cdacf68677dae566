/**
 * @module web/api
 * JSON routes (DESIGN.md "JSON API"). `web.api(spec)` declares a route once, with TypeBox
 * schemas for its params, query, body and response: the handler's argument types are
 * derived from them, input is checked (query strings and form fields coerced to the
 * numbers and booleans the schema asks for) and refused with 422
 * `{ error: { code: "invalid", message, fields } }` in the caller's language, the return
 * value is trimmed to the response schema (a field the schema does not name never leaks)
 * and sent as JSON, and ./openapi.ts documents the route from the same schemas. Lists use
 * `Page(item)`, `ListQuery` and the opaque keyset cursors of `encodeCursor`/`decodeCursor`.
 */
import { FormatRegistry, Type, type Static, type TObject, type TSchema } from "@sinclair/typebox";
import { ValueErrorType, type ValueError } from "@sinclair/typebox/errors";
import { Value } from "@sinclair/typebox/value";
import { Invalid } from "../errors.ts";
import type { MessageKey } from "../i18n/index.ts";
import type { RouteDef } from "../registry.ts";
import type { Web } from "./app.tsx";
import { ctxOf, type RequestContext } from "./context.ts";
import { json } from "./respond.ts";

if (!FormatRegistry.Has("date-time")) FormatRegistry.Set("date-time", (v) => !Number.isNaN(Date.parse(v)) && /^\d{4}-\d\d-\d\dT/.test(v));

export interface ApiRequest<P, Q, B> {
  request: Request;
  ctx: RequestContext;
  params: P;
  query: Q;
  body: B;
}

export interface ApiSpec<P extends TSchema = TObject<{}>, Q extends TSchema = TObject<{}>, B extends TSchema = TObject<{}>, R extends TSchema = TSchema> {
  method: RouteDef["method"];
  /** Elysia syntax (`/api/v1/tokens/:id`); openapi.json shows `{id}`. */
  path: string;
  permission: RouteDef["permission"];
  summary: string;
  description?: string;
  tags?: string[];
  params?: P;
  query?: Q;
  body?: B;
  response?: R;
  /** The success status: 200 unless told; 204 sends no body. */
  status?: 200 | 201 | 202 | 204;
  /** A handler may still return a Response of its own (a file, a redirect). */
  handler: (req: ApiRequest<Static<P>, Static<Q>, Static<B>>) => Static<R> | Response | void | Promise<Static<R> | Response | void>;
}

/** The error body of every failed API call. */
export const ApiError = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: "Stable, machine-readable: invalid, unauthorized, forbidden, not_found, conflict, csrf, too_many_requests, ..." }),
      message: Type.String({ description: "For people, in the caller's language" }),
      fields: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "Per-field reasons (status 422)" })),
    }),
  },
  { $id: "Error" },
);

export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: "Items per page" })),
  cursor: Type.Optional(Type.String({ maxLength: 500, description: "The `next` of the previous page" })),
});

/** `{ items, next }`: `next` is the cursor of the following page, null on the last. */
export function Page<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), next: Type.Union([Type.String(), Type.Null()]) });
}

export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

/** The key inside a cursor, checked against `schema`; undefined without a cursor; a bad one is a 422 on `cursor`. */
export function decodeCursor<S extends TSchema>(schema: S, cursor: string | undefined): Static<S> | undefined {
  if (cursor === undefined || cursor === "") return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new Invalid({ cursor: "api.cursor.invalid" });
  }
  if (!Value.Check(schema, key)) throw new Invalid({ cursor: "api.cursor.invalid" });
  return key;
}

/**
 * One page from rows read with `LIMIT limit + 1`: the extra row only tells that more
 * follow, and the last row kept gives the next cursor's key.
 */
export function pageOf<Row, Item>(rows: Row[], limit: number, keyOf: (row: Row) => unknown, toItem: (row: Row) => Item): { items: Item[]; next: string | null } {
  const kept = rows.slice(0, limit);
  return { items: kept.map(toItem), next: rows.length > limit && kept.length ? encodeCursor(keyOf(kept.at(-1)!)) : null };
}

type AnySpec = ApiSpec<TSchema, TSchema, TSchema, TSchema>;

export function registerApi<P extends TSchema, Q extends TSchema, B extends TSchema, R extends TSchema>(web: Web, spec: ApiSpec<P, Q, B, R>): void {
  web.deps.registry.route({ method: spec.method, path: spec.path, permission: spec.permission, kind: "api" });
  web.apiSpecs.push(spec as unknown as AnySpec);
  web.app.route(spec.method, spec.path, async (c: { request: Request; params?: unknown; query?: unknown; body?: unknown }) => {
    const ctx = ctxOf(c.request);
    const rawBody = c.body && typeof c.body === "object" ? (c.body as Record<string, unknown>) : {};
    // Rights before input: a caller who may not call learns nothing about what it accepts.
    web.guard(spec, ctx, c.request, rawBody);
    const isJson = (c.request.headers.get("content-type") ?? "").includes("json");
    const fields: Record<string, string> = {};
    const params = checked(spec.params, c.params ?? {}, true, ctx, fields);
    const query = checked(spec.query, c.query ?? {}, true, ctx, fields);
    const body = checked(spec.body, c.body, !isJson, ctx, fields);
    if (Object.keys(fields).length) {
      return json({ error: { code: "invalid", message: ctx.t("error.invalid"), fields } }, 422);
    }
    const out = await spec.handler({ request: c.request, ctx, params, query, body } as ApiRequest<Static<P>, Static<Q>, Static<B>>);
    if (out instanceof Response) return out;
    const status = spec.status ?? 200;
    if (status === 204) return new Response(null, { status });
    return json(spec.response ? Value.Clean(spec.response, Value.Clone(out)) : out, status);
  });
}

/** The value coerced and defaulted by `schema`, with each failing field's reason added to `fields`. */
function checked(schema: TSchema | undefined, raw: unknown, coerce: boolean, ctx: RequestContext, fields: Record<string, string>): unknown {
  if (!schema) return raw;
  let value = Value.Clone(raw);
  if (coerce) value = Value.Convert(schema, value);
  value = Value.Default(schema, value);
  if (Value.Check(schema, value)) return value;
  for (const error of Value.Errors(schema, value)) {
    const field = error.path.slice(1).replaceAll("/", ".") || "body";
    if (!(field in fields)) fields[field] = reason(error, ctx);
  }
  return value;
}

const reasons: Partial<Record<ValueErrorType, MessageKey>> = {
  [ValueErrorType.ObjectRequiredProperty]: "error.field.required",
  [ValueErrorType.ObjectAdditionalProperties]: "api.field.unknown",
  [ValueErrorType.Integer]: "api.field.integer",
  [ValueErrorType.Number]: "api.field.number",
  [ValueErrorType.Boolean]: "api.field.boolean",
  [ValueErrorType.String]: "api.field.string",
  [ValueErrorType.Object]: "api.field.object",
  [ValueErrorType.Array]: "api.field.array",
  [ValueErrorType.IntegerMinimum]: "api.field.minimum",
  [ValueErrorType.NumberMinimum]: "api.field.minimum",
  [ValueErrorType.IntegerMaximum]: "api.field.maximum",
  [ValueErrorType.NumberMaximum]: "api.field.maximum",
  [ValueErrorType.StringMinLength]: "api.field.minLength",
  [ValueErrorType.StringMaxLength]: "api.field.maxLength",
  [ValueErrorType.ArrayMinItems]: "api.field.minItems",
  [ValueErrorType.ArrayMaxItems]: "api.field.maxItems",
  [ValueErrorType.StringPattern]: "api.field.pattern",
  [ValueErrorType.StringFormat]: "api.field.format",
  [ValueErrorType.Literal]: "api.field.choice",
  [ValueErrorType.Union]: "api.field.choice",
};

function reason(error: ValueError, ctx: RequestContext): string {
  const s = error.schema as { minimum?: number; maximum?: number; minLength?: number; maxLength?: number; minItems?: number; maxItems?: number };
  const key = reasons[error.type] ?? "api.field.invalid";
  return ctx.t(key, { min: s.minimum ?? s.minLength ?? s.minItems ?? 0, max: s.maximum ?? s.maxLength ?? s.maxItems ?? 0 });
}
