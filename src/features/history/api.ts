/**
 * @module history/api
 * `/api/v1/logs` (DESIGN.md "JSON API"; SPEC L): the history with the page's filters,
 * newest first, keyset-paged; and `/api/v1/logs/export.csv`, the same rows as the page's
 * CSV export. Dates are ISO 8601 instants (with `Z` or an offset) instead of the page's
 * wall-clock times. Rights are the page's, checked by the same service: a caller reads
 * only the modules it holds a `logs.<module>` key for (403 when it holds none, or asks
 * for a module it may not read).
 */
import { Type, type Static } from "@sinclair/typebox";
import { Invalid } from "../../errors.ts";
import { decodeCursor, encodeCursor, ListQuery, Page } from "../../web/api.ts";
import type { Web } from "../../web/app.tsx";
import type { RequestContext } from "../../web/context.ts";
import { CSV_CAP, csvResponse } from "./export.ts";
import { CRITERIA, MAX_SEARCH, type HistoryFilter } from "./model.ts";
import { HISTORY_MODULES } from "./permissions.ts";
import { entryText, moduleName } from "./present.ts";
import type { HistoryRow } from "./repo.ts";
import type { HistoryService } from "./service.ts";

/** An ISO 8601 instant: with `Z` or an offset, never a wall-clock time open to interpretation. */
const instant = (description: string) => Type.String({ format: "date-time", pattern: "(Z|[+-]\\d\\d:?\\d\\d)$", maxLength: 40, description });

export const LogFilters = Type.Object({
  module: Type.Optional(Type.Union(HISTORY_MODULES.map((m) => Type.Literal(m)), { description: "One module; all those the caller may read when absent" })),
  start: Type.Optional(instant("Entries at or after this instant (ISO 8601 with Z or an offset)")),
  end: Type.Optional(instant("Entries at or before this instant")),
  criterion: Type.Optional(Type.Union(CRITERIA.map((c) => Type.Literal(c)))),
  search: Type.Optional(Type.String({ maxLength: MAX_SEARCH, description: "In the text (French, as stored), user, who and target" })),
});

export const LogEntry = Type.Object({
  id: Type.Integer(),
  date: Type.String({ format: "date-time" }),
  user: Type.String({ description: "The login of the user who acted, if any" }),
  who: Type.String({ description: "A machine or service acting on its own, if any" }),
  module: Type.String({ description: "The module's code: auth, users, imaging, ..." }),
  moduleLabel: Type.String({ description: "The module's name in the caller's language" }),
  criterion: Type.String(),
  text: Type.String({ description: "What happened, in the caller's language" }),
  sourceIp: Type.String(),
  target: Type.Union([Type.Object({ type: Type.String(), id: Type.String(), name: Type.String() }), Type.Null()]),
});

const LogCursor = Type.Object({ at: Type.Integer(), id: Type.Integer() });

/** The page's filter from the API's query: the same checks, instants instead of wall-clock times. */
function filterOf(query: Static<typeof LogFilters>): HistoryFilter {
  const from = query.start === undefined ? null : Date.parse(query.start);
  const end = query.end === undefined ? null : Date.parse(query.end);
  if (from !== null && end !== null && end < from) throw new Invalid({ end: "history.error.endBeforeStart" });
  return { module: query.module ?? null, from, to: end === null ? null : end + 1, criterion: query.criterion ?? null, search: (query.search ?? "").trim() };
}

const toEntry = (ctx: RequestContext) => (r: HistoryRow): Static<typeof LogEntry> => ({
  id: r.id,
  date: new Date(r.at).toISOString(),
  user: r.user_login,
  who: r.who,
  module: r.module,
  moduleLabel: moduleName(r.module, ctx.lang),
  criterion: r.criterion,
  text: entryText(r, ctx.lang),
  sourceIp: r.source_ip,
  target: r.target_type || r.target_id || r.target_name ? { type: r.target_type, id: r.target_id, name: r.target_name } : null,
});

export function registerHistoryApi(web: Web, deps: { history: HistoryService; timeZone?: string }): void {
  const { history } = deps;
  const timeZone = deps.timeZone ?? "UTC";

  web.api({
    method: "GET", path: "/api/v1/logs", permission: null, tags: ["logs"],
    summary: "The history, newest first, with the page's filters",
    description: "Rows of the modules the caller holds a `logs.<module>` key for; 403 when it holds none or asks for another module.",
    query: Type.Composite([ListQuery, LogFilters]),
    response: Page(LogEntry),
    handler: ({ ctx, query }) => {
      const limit = query.limit ?? 50;
      const after = decodeCursor(LogCursor, query.cursor);
      const found = history.page(ctx.session!.user, filterOf(query), { size: limit, cursor: after ? { dir: "after", ...after } : null });
      const last = found.rows.at(-1);
      return { items: found.rows.map(toEntry(ctx)), next: found.older !== null && last ? encodeCursor({ at: last.at, id: last.id }) : null };
    },
  });

  web.api({
    method: "GET", path: "/api/v1/logs/export.csv", permission: null, tags: ["logs"],
    summary: "The filtered history as CSV (every matching row, up to a million)",
    description: "The page's CSV export: UTF-8 with a byte-order mark, dates as `YYYY-MM-DD HH:MM:SS` in the appliance's time zone, texts in the caller's language.",
    query: LogFilters,
    handler: ({ ctx, query }) => {
      const reader = history.reader(ctx.session!.user, filterOf(query), { cap: CSV_CAP });
      return csvResponse(reader, { t: ctx.t, lang: ctx.lang, timeZone, now: web.deps.clock.now(), filters: [] });
    },
  });
}
