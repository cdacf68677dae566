/**
 * @module history/model
 * The history's filters (SPEC L2) as they arrive in a query string, checked and turned
 * into what the service needs: module, period (instants in the appliance's time zone),
 * criterion, search text, page size and keyset cursor. Every wrong field is reported at
 * once, each with its own message (`Invalid`); a forged cursor is a bad request.
 */
import { BadRequest, Invalid, type FieldErrors } from "../../errors.ts";
import type { MessageKey } from "../../i18n/index.ts";
import { isHistoryModule, type HistoryModule } from "./permissions.ts";
import { parseLocalDateTime } from "./time.ts";

/** SPEC L2 criteria as stored in `history.criterion`; `none` is what `record` stores by default. */
export const CRITERIA = ["inventory", "requested", "deployment", "planned", "quickaction", "user", "machine", "master", "newmachine", "none"] as const;
export type Criterion = (typeof CRITERIA)[number];

export const PAGE_SIZES = [10, 25, 50, 100, 500] as const;
export type PageSize = (typeof PAGE_SIZES)[number];
export const DEFAULT_PAGE_SIZE: PageSize = 25;
export const MAX_SEARCH = 200;

export interface HistoryFilter {
  /** null: every module the reader may read. */
  module: HistoryModule | null;
  /** Inclusive start, epoch ms. */
  from: number | null;
  /** Exclusive end, epoch ms. */
  to: number | null;
  criterion: Criterion | null;
  search: string;
}

/** A position in the newest-first order: rows strictly older (`after`) or newer (`before`) than (at, id). */
export interface Cursor {
  dir: "after" | "before";
  at: number;
  id: number;
}

export interface PageRequest {
  /** One of `PAGE_SIZES` from a request; any positive number from code (exports, tests). */
  size: number;
  cursor: Cursor | null;
}

/** The form's values as typed: echoed back in the form, in links and in exports. */
export interface FilterInput {
  module: string;
  start: string;
  end: string;
  criterion: string;
  q: string;
  size: string;
}

export const FILTER_FIELDS = ["module", "start", "end", "criterion", "q", "size"] as const satisfies readonly (keyof FilterInput)[];

export const emptyInput: FilterInput = { module: "", start: "", end: "", criterion: "", q: "", size: String(DEFAULT_PAGE_SIZE) };

export function readInput(query: Record<string, string | undefined>): FilterInput {
  const get = (name: keyof FilterInput, max: number) => (typeof query[name] === "string" ? query[name]!.slice(0, max) : "");
  return {
    module: get("module", 40),
    start: get("start", 40).trim(),
    end: get("end", 40).trim(),
    criterion: get("criterion", 40),
    q: get("q", 1000),
    size: get("size", 10) || String(DEFAULT_PAGE_SIZE),
  };
}

export function isCriterion(value: unknown): value is Criterion {
  return typeof value === "string" && (CRITERIA as readonly string[]).includes(value);
}

/** The checked filter, or `Invalid` naming every wrong field. */
export function parseFilter(input: FilterInput, timeZone: string): HistoryFilter {
  const errors: FieldErrors = {};
  const fail = (field: keyof FilterInput, key: MessageKey) => {
    errors[field] = key;
    return null;
  };
  const module = input.module === "" ? null : isHistoryModule(input.module) ? input.module : fail("module", "history.error.module");
  const start = input.start === "" ? null : (parseLocalDateTime(input.start, timeZone) ?? fail("start", "history.error.date"));
  const end = input.end === "" ? null : (parseLocalDateTime(input.end, timeZone) ?? fail("end", "history.error.date"));
  if (start && end && end.at < start.at) fail("end", "history.error.endBeforeStart");
  const criterion = input.criterion === "" ? null : isCriterion(input.criterion) ? input.criterion : fail("criterion", "history.error.criterion");
  const search = input.q.trim();
  if (search.length > MAX_SEARCH) fail("q", "history.error.search");
  if (parseSize(input.size) === null) fail("size", "history.error.size");
  if (Object.keys(errors).length) throw new Invalid(errors);
  return { module, from: start?.at ?? null, to: end ? end.at + end.precisionMs : null, criterion, search };
}

function parseSize(value: string): PageSize | null {
  return PAGE_SIZES.find((n) => String(n) === value) ?? null;
}

/** Page size (already checked by `parseFilter`) and cursor (`after` / `before` = `<at>.<id>`). */
export function parsePage(input: FilterInput, query: Record<string, string | undefined>): PageRequest {
  const size = parseSize(input.size) ?? DEFAULT_PAGE_SIZE;
  const raw = query.after ? { dir: "after" as const, value: query.after } : query.before ? { dir: "before" as const, value: query.before } : null;
  if (!raw) return { size, cursor: null };
  const m = /^(\d{1,15})\.(\d{1,15})$/.exec(raw.value);
  if (!m) throw new BadRequest();
  return { size, cursor: { dir: raw.dir, at: Number(m[1]), id: Number(m[2]) } };
}

export function encodeCursor(row: { at: number; id: number }): string {
  return `${row.at}.${row.id}`;
}

/** The query string of a filter (empty values left out), plus extra parameters such as a cursor. */
export function filterQuery(input: FilterInput, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const field of FILTER_FIELDS) {
    const value = input[field];
    if (value !== "" && !(field === "size" && value === String(DEFAULT_PAGE_SIZE))) params.set(field, value);
  }
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  const text = params.toString();
  return text ? `?${text}` : "";
}
