/**
 * @module machine-groups/import-routes
 * The import of a static group (SPEC C7) as pages, in two steps: the file (read by
 * ./table-file.ts, kept in a small stash), then what each column holds, a check that lists
 * each row in error, and the creation — refused while rows are in error unless the user
 * keeps only the rows recognised (./import.ts).
 */
import { Invalid, NotFound, TooLarge } from "../../errors.ts";
import type { MessageKey } from "../../i18n/index.ts";
import type { Web } from "../../web/app.tsx";
import type { RequestContext } from "../../web/context.ts";
import { html, redirect } from "../../web/respond.ts";
import { Alert } from "../../../views/shell/layout.tsx";
import { ImportCheck, ImportMapping, ImportUploadForm } from "../../../views/machine-groups/import.tsx";
import type { EntitiesService } from "../entities/service.ts";
import { viewerOf } from "../users/index.tsx";
import { columnLabel, COLUMN_KINDS, createStash, guessKind, matchRows, type ColumnKind, type MatchOutcome } from "./import.ts";
import type { MachineGroupsService } from "./service.ts";
import { readTableFile, TableFileError, TABLE_LIMITS, type Table } from "./table-file.ts";

const str = (v: unknown) => (typeof v === "string" ? v : "");
const isOn = (v: unknown) => v === "on" || v === "1" || v === "true" || v === true;

/** The message of a file the import cannot read, in the reader's words. */
export const fileProblem = (err: TableFileError): MessageKey => `mgroups.file.${err.problem}` as MessageKey;

export function registerImportRoutes(web: Web, deps: { service: MachineGroupsService; perms: { edit: string }; entities: EntitiesService }): void {
  const { service, perms } = deps;
  const { db, clock } = web.deps;
  const stash = createStash(() => clock.now());

  web.limitBody("/machine-groups/import", TABLE_LIMITS.fileBytes + 64 * 1024);
  const columnOptions = (ctx: RequestContext) => COLUMN_KINDS.map((k) => ({ value: k, label: ctx.t(columnLabel(k)) }));
  const uploadPage = (ctx: RequestContext, values: { name: string; favourite: boolean }, status = 200, error?: string, errors?: Record<string, MessageKey>) =>
    web.page(ctx, { title: ctx.t("mgroups.import.title"), current: "/machine-groups", status, body: <ImportUploadForm t={ctx.t} csrf={ctx.session!.csrf} values={values} error={error} errors={errors} /> });

  web.route({ method: "GET", path: "/machine-groups/import", permission: perms.edit, kind: "page", handler: ({ ctx }) => uploadPage(ctx, { name: "", favourite: false }) });

  const mappingOf = (body: Record<string, unknown>, width: number): ColumnKind[] =>
    Array.from({ length: width }, (_, i) => {
      const v = str(body[`col${i}`]);
      return (COLUMN_KINDS as readonly string[]).includes(v) ? (v as ColumnKind) : "ignore";
    });
  const widthOf = (table: Table) => Math.max(0, ...table.rows.map((r) => r.length));

  const mappingPage = async (ctx: RequestContext, token: string, name: string, favourite: boolean, guessed: ColumnKind[], hasHeader: boolean, extra: { status?: number; error?: string; safePreview?: string } = {}) => {
    const pendingImport = stash.get(viewerOf(ctx).id, token)!;
    const t = pendingImport.table;
    return web.page(ctx, {
      title: ctx.t("mgroups.import.mapTitle"), current: "/machine-groups", status: extra.status,
      body: (
        <ImportMapping
          t={ctx.t} csrf={ctx.session!.csrf} token={token} name={name} favourite={favourite} fileName={pendingImport.fileName} sheet={t.sheet} rowCount={t.rows.length}
          sample={t.rows.slice(0, 8)} columns={columnOptions(ctx)} guessed={guessed} hasHeader={hasHeader} error={extra.error} safePreview={extra.safePreview}
        />
      ),
    });
  };

  web.route({
    method: "POST", path: "/machine-groups/import", permission: perms.edit, kind: "action",
    handler: async ({ ctx, body }) => {
      const values = { name: str(body.name).trim(), favourite: isOn(body.favourite) };
      if (!values.name) return uploadPage(ctx, values, 422, ctx.t("error.invalid"), { name: "error.field.required" });
      const file = body.file;
      if (!(file instanceof Blob) || file.size === 0) return uploadPage(ctx, values, 422, ctx.t("mgroups.file.empty"));
      if (file.size > TABLE_LIMITS.fileBytes) throw new TooLarge();
      let table: Table;
      try {
        table = await readTableFile(new Uint8Array(await file.arrayBuffer()));
      } catch (err) {
        if (!(err instanceof TableFileError)) throw err;
        web.deps.log.info({ problem: err.problem, detail: err.detail }, "group import refused");
        return uploadPage(ctx, values, 422, ctx.t(fileProblem(err)));
      }
      const token = stash.put(viewerOf(ctx).id, file instanceof File ? file.name : "upload", table);
      const head = table.rows[0] ?? [];
      const guessed = head.map(guessKind);
      const hasHeader = guessed.some((g) => g !== "ignore");
      return mappingPage(ctx, token, values.name, values.favourite, hasHeader ? guessed : head.map((_, i) => (i === 0 ? "hostname" : "ignore")), hasHeader);
    },
  });

  const checkFragment = (ctx: RequestContext, outcome: MatchOutcome) => {
    const describe = (r: MatchOutcome["rows"][number]) => ({
      row: r.row, values: r.values.filter(Boolean).join(" · "), bad: r.reason !== null,
      result: r.reason ? ctx.t(r.reason.key, r.reason.params) : r.duplicateOf ? `${r.hostname} (${ctx.t("mgroups.reason.duplicate", { row: r.duplicateOf })})` : r.hostname,
    });
    return <ImportCheck t={ctx.t} matched={outcome.matched.length} bad={outcome.rows.filter((r) => r.reason).map(describe)} good={outcome.rows.filter((r) => !r.reason).map(describe)} />;
  };

  const pendingOr = (ctx: RequestContext, token: string) => {
    const found = stash.get(viewerOf(ctx).id, token);
    if (!found) throw new NotFound("mgroups.import.expired");
    return found;
  };

  web.route({
    method: "POST", path: "/machine-groups/import/:token/preview", permission: perms.edit, kind: "fragment",
    handler: async ({ ctx, params, body }) => {
      const { table } = pendingOr(ctx, params.token!);
      try {
        const outcome = matchRows(db, table, mappingOf(body, widthOf(table)), isOn(body.header), [...deps.entities.visibleIds(viewerOf(ctx))]);
        return html(await checkFragment(ctx, outcome));
      } catch (err) {
        if (!(err instanceof Invalid)) throw err;
        return html(await <Alert kind="error" text={ctx.t(err.messageKey, err.params)} />);
      }
    },
  });

  web.route({
    method: "POST", path: "/machine-groups/import/:token", permission: perms.edit, kind: "action",
    handler: async ({ ctx, params, body }) => {
      const viewer = viewerOf(ctx);
      const token = params.token!;
      const { table } = pendingOr(ctx, token);
      const columns = mappingOf(body, widthOf(table));
      const hasHeader = isOn(body.header);
      const name = str(body.name);
      const favourite = isOn(body.favourite);
      let outcome: MatchOutcome;
      try {
        outcome = matchRows(db, table, columns, hasHeader, [...deps.entities.visibleIds(viewer)]);
      } catch (err) {
        if (!(err instanceof Invalid)) throw err;
        return mappingPage(ctx, token, name, favourite, columns, hasHeader, { status: 422, error: ctx.t(err.messageKey, err.params) });
      }
      if (outcome.bad > 0 && !isOn(body.allowPartial)) {
        const safePreview = await checkFragment(ctx, outcome);
        return mappingPage(ctx, token, name, favourite, columns, hasHeader, { status: 422, error: ctx.t("mgroups.import.refused"), safePreview });
      }
      let id: number;
      try {
        id = service.createStatic(viewer, { name, favourite, machineIds: outcome.matched, origin: "import" }, ctx.ip);
      } catch (err) {
        if (!(err instanceof Invalid)) throw err;
        return mappingPage(ctx, token, name, favourite, columns, hasHeader, { status: 422, error: ctx.t(err.fields?.name ?? err.messageKey, err.params) });
      }
      stash.drop(token);
      return redirect(ctx, `/machine-groups/${id}?created=1`);
    },
  });
}
