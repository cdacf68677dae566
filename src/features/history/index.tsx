/**
 * @module history
 * Routes of the history (SPEC L, X6): the page with its filters (the full page, or only
 * the results fragment for htmx), the CSV and PDF exports of the filtered rows, and the
 * retention setting. Also declares the `logs.*` keys, the menu entry (shown to holders of
 * any of them) and the nightly purge job.
 */
import { Forbidden, Invalid, type FieldErrors } from "../../errors.ts";
import type { Web } from "../../web/app.tsx";
import type { RequestContext } from "../../web/context.ts";
import { html, redirect } from "../../web/respond.ts";
import { HistoryPage, type HistoryPageProps } from "../../../views/history/history-page.tsx";
import { ErrorSlot, HistoryResults } from "../../../views/history/history-results.tsx";
import { RetentionForm } from "../../../views/history/retention-form.tsx";
import { CSV_CAP, PDF_CAP, csvResponse, pdfResponse } from "./export.ts";
import { CRITERIA, FILTER_FIELDS, PAGE_SIZES, emptyInput, filterQuery, parseFilter, parsePage, readInput, type FilterInput, type HistoryFilter } from "./model.ts";
import { ALL_LOGS_KEYS, SETTINGS_KEY, declareHistoryPermissions, moduleLabel } from "./permissions.ts";
import { presentEntry } from "./present.ts";
import { MAX_RETENTION_DAYS, createHistoryService, type HistoryService } from "./service.ts";
import { formatForReader } from "./time.ts";

export interface HistoryOptions {
  /** The appliance's time zone: dates typed in the filters and shown in rows are in it. */
  timeZone?: string;
}

/**
 * A fragment answers an htmx request from the page; a history restore (back button) or a
 * request aimed at the whole body gets the full page.
 */
function wantsFragment(ctx: RequestContext, request: Request): boolean {
  return ctx.isHtmx && request.headers.get("hx-history-restore-request") !== "true" && request.headers.get("hx-request-type") !== "full";
}

export function registerHistory(web: Web, options: HistoryOptions = {}): HistoryService {
  const { registry, access, db, clock, recorder, scheduler } = web.deps;
  const timeZone = options.timeZone ?? "UTC";
  const service = createHistoryService({ db, clock, access, recorder });
  declareHistoryPermissions(registry);
  registry.menuEntry({ id: "history", section: "menu.section.logs", label: "history.nav", href: "/history", permission: ALL_LOGS_KEYS, order: 500 });

  scheduler.register("history.purge", async (_payload, job) => void (await service.purge(job.signal)), { timeoutMs: 3_600_000 });
  scheduler.schedule("history.purge", "history.purge", "daily:03:15");

  type PageParts = Partial<Pick<HistoryPageProps, "results" | "errors">> & { input: FilterInput; retention?: { days?: string; errors?: FieldErrors; notice?: string } };

  const renderPage = (ctx: RequestContext, parts: PageParts, status = 200) => {
    const user = ctx.session!.user;
    const modules = service.readable(user);
    const body = (
      <HistoryPage
        t={ctx.t}
        values={parts.input}
        modules={modules.map((m) => ({ value: m, label: ctx.t(moduleLabel(m)) }))}
        criteria={CRITERIA.map((c) => ({ value: c, label: ctx.t(`history.criterion.${c}`) }))}
        sizes={PAGE_SIZES}
        timeZone={timeZone}
        errors={parts.errors}
        hasModules={modules.length > 0}
        results={parts.results ?? null}
        retention={
          access.can(user, SETTINGS_KEY)
            ? { csrf: ctx.session!.csrf, days: parts.retention?.days ?? String(service.retentionDays()), max: MAX_RETENTION_DAYS, ...parts.retention }
            : null
        }
      />
    );
    return web.page(ctx, { title: ctx.t("history.title"), current: "/history", body, status });
  };

  /** Refused filters: each field's message in its slot (htmx, nothing else changes), or the page with them. */
  const refuse = async (ctx: RequestContext, input: FilterInput, errors: FieldErrors, isFragment: boolean) => {
    if (!isFragment) return renderPage(ctx, { input, errors }, 422);
    const slots = FILTER_FIELDS.map((field) => <ErrorSlot field={field} message={errors[field] ? ctx.t(errors[field]) : ""} oob />);
    return html((await Promise.all(slots)).join(""), 422, { "hx-reswap": "none", "hx-push-url": "false" });
  };

  const parse = (input: FilterInput): { filter: HistoryFilter } | { errors: FieldErrors } => {
    try {
      return { filter: parseFilter(input, timeZone) };
    } catch (err) {
      if (err instanceof Invalid && err.fields) return { errors: err.fields };
      throw err;
    }
  };

  web.route({
    method: "GET", path: "/history", permission: null, kind: "page",
    handler: async ({ ctx, query, request }) => {
      const user = ctx.session!.user;
      const canRead = service.readable(user).length > 0;
      if (!canRead && !access.can(user, SETTINGS_KEY)) throw new Forbidden();
      const input = readInput(query);
      const isFragment = wantsFragment(ctx, request);
      if (!canRead && !isFragment) return renderPage(ctx, { input: emptyInput });
      const parsed = parse(input);
      if ("errors" in parsed) return refuse(ctx, input, parsed.errors, isFragment);
      const pageRequest = parsePage(input, query);
      const found = service.page(user, parsed.filter, pageRequest);
      const results = {
        entries: found.rows.map((r) => presentEntry(r, ctx.lang, timeZone)),
        query: filterQuery(input),
        newer: found.newer,
        older: found.older,
        isFiltered: isFiltered(parsed.filter),
        isPaged: pageRequest.cursor !== null,
      };
      if (isFragment) return html(await <HistoryResults t={ctx.t} {...results} clearErrors={FILTER_FIELDS} />);
      return renderPage(ctx, { input, results });
    },
  });

  const exportRoute = (ext: "csv" | "pdf") =>
    web.route({
      method: "GET", path: `/history/export.${ext}`, permission: null, kind: ext === "csv" ? "stream" : "asset",
      handler: ({ ctx, query }) => {
        const user = ctx.session!.user;
        const input = readInput(query);
        const parsed = parse(input);
        if ("errors" in parsed) return refuse(ctx, input, parsed.errors, false);
        const reader = service.reader(user, parsed.filter, { cap: ext === "csv" ? CSV_CAP : PDF_CAP });
        const now = clock.now();
        const lines = [...summary(ctx, parsed.filter, timeZone), ctx.t("history.export.by", { date: formatForReader(now, timeZone, ctx.lang), login: user.login, zone: timeZone })];
        const exportCtx = { t: ctx.t, lang: ctx.lang, timeZone, now, filters: lines };
        return ext === "csv" ? csvResponse(reader, exportCtx) : pdfResponse(reader, exportCtx);
      },
    });
  exportRoute("csv");
  exportRoute("pdf");

  web.route({
    method: "POST", path: "/history/retention", permission: SETTINGS_KEY, kind: "action",
    handler: async ({ ctx, body }) => {
      const user = ctx.session!.user;
      const typed = typeof body.days === "string" ? body.days.slice(0, 20) : "";
      let notice: string;
      try {
        const days = service.setRetentionDays(user, typed, ctx.ip);
        notice = days === 0 ? ctx.t("history.retention.savedForever") : ctx.t("history.retention.saved", { days });
      } catch (err) {
        if (!(err instanceof Invalid)) throw err;
        const retention = { days: typed, errors: err.fields };
        if (!ctx.isHtmx) return renderPage(ctx, { input: emptyInput, retention }, 422);
        return html(await <RetentionForm t={ctx.t} csrf={ctx.session!.csrf} max={MAX_RETENTION_DAYS} {...retention} />, 422);
      }
      if (!ctx.isHtmx) return redirect(ctx, "/history");
      return html(await <RetentionForm t={ctx.t} csrf={ctx.session!.csrf} max={MAX_RETENTION_DAYS} days={String(service.retentionDays())} notice={notice} />);
    },
  });

  return service;
}

function isFiltered(f: HistoryFilter): boolean {
  return f.module !== null || f.from !== null || f.to !== null || f.criterion !== null || f.search !== "";
}

/** The filters in words, for the PDF's first page. */
function summary(ctx: RequestContext, f: HistoryFilter, timeZone: string): string[] {
  const { t } = ctx;
  const date = (at: number | null) => (at === null ? t("history.summary.open") : formatForReader(at, timeZone, ctx.lang));
  const lines = [t("history.summary.module", { value: f.module ? t(moduleLabel(f.module)) : t("history.filter.allModules") })];
  if (f.from !== null || f.to !== null) lines.push(t("history.summary.period", { from: date(f.from), to: date(f.to === null ? null : f.to - 1) }));
  if (f.criterion) lines.push(t("history.summary.criterion", { value: t(`history.criterion.${f.criterion}`) }));
  if (f.search) lines.push(t("history.summary.search", { value: f.search }));
  return lines;
}
