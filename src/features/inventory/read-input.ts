/**
 * @module inventory/read-input
 * What the inventory's pages read from a query string, made safe: every unknown value
 * falls back to its default (a page never fails on a hand-edited address), texts are cut
 * to their limits, and the keys inside the opaque paging cursors have schemas.
 */
import { Type } from "@sinclair/typebox";
import type { InventoryComputersQuery } from "../../../views/inventory/computers.tsx";
import { OP_CODES, type OpCode, type SoftwareSearchQuery } from "../../../views/inventory/software-search.tsx";
import { COMPUTER_SORTS, VERSION_OPS, type ComputerFilter, type ComputerSort, type SoftwareFilter, type VersionOp } from "./read.ts";

type Query = Record<string, string | undefined>;
const str = (v: unknown) => (typeof v === "string" ? v : "");
const oneOf = <T extends string>(v: unknown, allowed: readonly T[], dflt: T): T => (allowed as readonly unknown[]).includes(v) ? (v as T) : dflt;

export const ComputerKey = Type.Object({ v: Type.Union([Type.String(), Type.Number()]), id: Type.Integer() });
export const SoftwareKey = Type.Object({ k1: Type.String(), k2: Type.String(), id: Type.Integer() });
export const ChangeKey = Type.Object({ at: Type.Integer(), id: Type.Integer() });
export const GroupKey = Type.Object({ n: Type.String(), k: Type.String(), v: Type.String() });
export const HitKey = Type.Object({ h: Type.String(), m: Type.Integer(), s: Type.Integer() });

export function computersQueryOf(query: Query): InventoryComputersQuery {
  return {
    state: oneOf(query.state, ["all", "online", "offline"] as const, "all"),
    age: oneOf(query.age, ["all", "fresh", "stale"] as const, "all"),
    entity: /^\d{1,9}$/.test(str(query.entity)) ? str(query.entity) : "",
    q: str(query.q).slice(0, 100),
    sort: oneOf(query.sort, Object.keys(COMPUTER_SORTS) as ComputerSort[], "name"),
    dir: query.dir === "desc" ? "desc" : "asc",
  };
}

export function computerFilterOf(q: InventoryComputersQuery): ComputerFilter {
  return { state: q.state, age: q.age, entity: q.entity ? Number(q.entity) : null, search: q.q, sort: q.sort as ComputerSort, desc: q.dir === "desc" };
}

/** An operator as a code (`lt`) or as its symbol (`<`): the API takes both. */
export function opOf(v: unknown): OpCode | "" {
  const s = str(v);
  if (s in OP_CODES) return s as OpCode;
  const code = (Object.keys(OP_CODES) as OpCode[]).find((k) => OP_CODES[k] === s);
  return code ?? "";
}

export function searchQueryOf(query: Query): SoftwareSearchQuery {
  return {
    name: str(query.name).trim().slice(0, 200),
    match: query.match === "equals" ? "equals" : "contains",
    op: opOf(query.op),
    version: str(query.version).trim().slice(0, 100),
    publisher: str(query.publisher).trim().slice(0, 200),
    view: query.view === "machines" ? "machines" : "groups",
  };
}

export function softwareFilterOf(q: Pick<SoftwareSearchQuery, "name" | "match" | "op" | "version" | "publisher">): SoftwareFilter {
  const op: VersionOp | null = q.op && q.version ? OP_CODES[q.op] : null;
  return { name: q.name, match: q.match, op: op && VERSION_OPS.includes(op) ? op : null, version: q.version, publisher: q.publisher };
}
