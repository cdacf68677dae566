/**
 * @module packages
 * Routes of the packages feature (SPEC P1–P3): the list, adding a package from one of the
 * four file origins, a version's page, editing its metadata, the step editor, deleting,
 * Medulla import, pending packages; and the JSON API under /api/v1/packages. Uploads are
 * read by this feature itself (streamed to disk, size-limited), so those routes are mounted
 * without Elysia's body parser; they still pass the same guard (session or bearer,
 * permission, CSRF — from the header, or from the form field before the file is used).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { Type } from "@sinclair/typebox";
import { AppError, Conflict, CsrfFailed, NotFound } from "../../errors.ts";
import type { MessageKey, T } from "../../i18n/index.ts";
import { ListQuery, Page, decodeCursor, encodeCursor } from "../../web/api.ts";
import type { Web } from "../../web/app.tsx";
import { ctxOf, type RequestContext } from "../../web/context.ts";
import { html, json, redirect } from "../../web/respond.ts";
import { AddPackagePage, EditPackagePage, ImportPage, emptyMeta, type FormErrors, type MetaValues } from "../../../views/packages/form.tsx";
import { PackagesPage, PackagesTable, PendingPage, type PackagesQuery } from "../../../views/packages/list.tsx";
import { StepEditor, StepEditorPage, type StepEditorProps } from "../../../views/packages/steps.tsx";
import { PackageViewPage } from "../../../views/packages/view.tsx";
import { formatForReader } from "../history/time.ts";
import { viewerOf } from "../users/index.tsx";
import { BlobStore } from "./blobs.ts";
import { type Descriptor, type DescriptorIssue, DESCRIPTOR_FORMAT, OS_NAMES, type OsName, SECTION_NAMES, type SectionName, emptyDescriptor, validateDescriptor } from "./descriptor.ts";
import { ImportError, detectPackage, listSourceDirectories, readDirectory } from "./importer.ts";
import { cleanPackagePath } from "./paths.ts";
import { type PackageFile, type PackageRow, DescriptorRejected, createPackagesService, type PackagesService } from "./service.ts";
import { applyOp, formToStep, issueText, readStepForms, stepToForm } from "./step-form.ts";
import { DEFAULT_UPLOAD_LIMITS, UploadError, readUpload, type UploadLimits } from "./upload.ts";
import { ArchiveError, DEFAULT_ZIP_LIMITS, extractZip, type ZipLimits } from "./zip.ts";

export interface PackagesOptions {
  /** Where blobs, temporary files and the sources directory live (data/packages). */
  dir: string;
  uploadLimits?: UploadLimits;
  zipLimits?: ZipLimits;
}

const str = (v: unknown): string => (typeof v === "string" ? v : Array.isArray(v) ? String(v[v.length - 1] ?? "") : "");
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === "string" && v !== "" ? v.split("\n") : []);
const on = (v: unknown) => str(v) === "on" || str(v) === "true" || str(v) === "1";

const humanSize = (n: number): string => (n < 1024 ? `${n} o` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} Kio` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} Mio` : `${(n / 1024 ** 3).toFixed(2)} Gio`);

export function metaOf(d: Descriptor): MetaValues {
  return {
    name: d.name, version: d.version, description: d.description, kind: d.kind, os: [...d.targetOs], share: d.share, transfer: d.transfer.method,
    bandwidth: String(d.transfer.bandwidthKbps), priority: d.priority, launcher: d.launcher ?? "", dependencies: d.dependencies.map((x) => (x.version ? `${x.name}@${x.version}` : x.name)),
    associate: d.inventory.associate, software: d.inventory.software ?? "", softwareVersion: d.inventory.version ?? "", inventoryAfter: d.inventoryAfter, removeAfter: d.removeAfter,
  };
}

export function metaFromForm(body: Record<string, unknown>): MetaValues {
  return {
    name: str(body.name).trim(), version: str(body.version).trim(), description: str(body.description).trim(), kind: str(body.kind) || "install",
    os: OS_NAMES.filter((o) => on(body[`os_${o}`])), share: str(body.share).trim() || "global", transfer: str(body.transfer) || "pull", bandwidth: str(body.bandwidth).trim() || "0",
    priority: str(body.priority) || "normal", launcher: str(body.launcher).trim(), dependencies: list(body.dependencies).map((s) => s.trim()).filter(Boolean),
    associate: on(body.associate), software: str(body.software).trim(), softwareVersion: str(body.softwareVersion).trim(), inventoryAfter: on(body.inventoryAfter), removeAfter: on(body.removeAfter),
  };
}

/** The descriptor the metadata form describes, on top of `base` (its steps are kept; a new system gets an empty install section). */
export function descriptorFromMeta(v: MetaValues, base?: Descriptor): unknown {
  const start = base ?? emptyDescriptor(v.name, v.version, []);
  const steps: Record<string, unknown> = { ...start.steps };
  for (const o of v.os) if (!steps[o]) steps[o] = emptyDescriptor("x", "1", [o as OsName]).steps[o as OsName];
  return {
    format: DESCRIPTOR_FORMAT,
    name: v.name,
    version: v.version,
    description: v.description,
    kind: v.kind,
    targetOs: v.os,
    share: v.share,
    transfer: { method: v.transfer, bandwidthKbps: /^\d{1,9}$/.test(v.bandwidth) ? Number(v.bandwidth) : v.bandwidth },
    priority: v.priority,
    ...(v.launcher ? { launcher: v.launcher } : {}),
    dependencies: v.dependencies.map((d) => {
      const i = d.lastIndexOf("@");
      return i > 0 ? { name: d.slice(0, i), version: d.slice(i + 1) } : { name: d };
    }),
    inventory: { associate: v.associate, ...(v.software ? { software: v.software } : {}), ...(v.softwareVersion ? { version: v.softwareVersion } : {}) },
    inventoryAfter: v.inventoryAfter,
    removeAfter: v.removeAfter,
    steps,
  };
}

const FIELD_OF: [RegExp, string][] = [
  [/^\/name/, "name"], [/^\/version/, "version"], [/^\/description/, "description"], [/^\/kind/, "kind"], [/^\/targetOs/, "targetOs"], [/^\/share/, "share"],
  [/^\/transfer\/method/, "transfer"], [/^\/transfer\/bandwidthKbps/, "bandwidth"], [/^\/priority/, "priority"], [/^\/launcher/, "launcher"], [/^\/dependencies/, "dependencies"],
  [/^\/inventory\/software/, "software"], [/^\/inventory\/version/, "softwareVersion"],
];

export function formErrors(t: T, issues: DescriptorIssue[]): FormErrors {
  const out: FormErrors = {};
  for (const i of issues) {
    const field = FIELD_OF.find(([re]) => re.test(i.path))?.[1] ?? "";
    (out[field] ??= []).push(issueText(t, i));
  }
  return out;
}

export function registerPackages(web: Web, opts: PackagesOptions): { service: PackagesService; perms: { view: string; edit: string; del: string } } {
  const { registry, access, db, clock, recorder } = web.deps;
  const tz = web.deps.timeZone ?? "UTC";
  const store = new BlobStore(opts.dir);
  const sourcesDir = join(opts.dir, "sources");
  const uploadLimits = opts.uploadLimits ?? DEFAULT_UPLOAD_LIMITS;
  const zipLimits = opts.zipLimits ?? DEFAULT_ZIP_LIMITS;
  const service = createPackagesService({ db, clock, recorder, store });

  const p = (key: string, label: MessageKey) => registry.permission({ key, category: "perm.category.packages", label });
  const perms = { view: p("packages.view", "perm.packages.view"), edit: p("packages.edit", "perm.packages.edit"), del: p("packages.delete", "perm.packages.delete") };
  registry.menuEntry({ id: "packages", section: "menu.section.packages", label: "nav.packages", href: "/packages", permission: perms.view, order: 30 });
  registry.menuEntry({ id: "packages-add", section: "menu.section.packages", label: "nav.packages.add", href: "/packages/new", permission: perms.edit, order: 31 });
  registry.menuEntry({ id: "packages-pending", section: "menu.section.packages", label: "nav.packages.pending", href: "/packages/pending", permission: perms.view, order: 32 });

  // Verifying the appliance's copy of a version's files runs as a durable job.
  web.deps.scheduler.register("packages.sync", async (payload: unknown) => {
    const id = Number((payload as { id?: unknown })?.id);
    if (Number.isInteger(id)) await service.syncLocal(id);
  });
  const queueSync = (id: number) => web.deps.scheduler.enqueue("packages.sync", { id });
  // Blobs no version lists (a crash mid-upload) and stale temporary files go every night.
  web.deps.scheduler.register("packages.gc", () => {
    service.collectGarbage();
  });
  web.deps.scheduler.schedule("packages.gc", "packages.gc", "daily:04:10");

  const can = (ctx: RequestContext, key: string) => Boolean(ctx.session && access.can(ctx.session.user, key));
  const rightsText = (ctx: RequestContext) =>
    [ctx.t("packages.rights.read"), ...(can(ctx, perms.edit) ? [ctx.t("packages.rights.write")] : []), ...(can(ctx, perms.del) ? [ctx.t("packages.rights.delete")] : [])].join(", ");
  const osText = (t: T, row: PackageRow) => (JSON.parse(row.target_os) as OsName[]).map((o) => t(`packages.os.${o}`)).join(", ");
  const packageOptions = (exclude?: number) =>
    service
      .list({ limit: 10_000 })
      .items.filter((r) => r.id !== exclude)
      .map((r) => ({ value: `${r.name}@${r.version}`, label: `${r.name} ${r.version}` }));
  const sourceOptions = () => service.list({ limit: 10_000 }).items.map((r) => ({ value: String(r.id), label: `${r.name} ${r.version} (${r.file_count})` }));
  const messageOf = (t: T, err: unknown): string =>
    err instanceof AppError ? t(err.messageKey, err.params) : err instanceof ArchiveError ? t("packages.error.archive", { detail: err.message }) : err instanceof UploadError ? t("packages.error.upload", { detail: err.message }) : err instanceof ImportError ? (err.code === "bad_json" ? t("packages.error.badJson", { file: err.params.file ?? "" }) : err.code === "not_package" ? t("packages.error.notMedulla") : t("packages.error.archive", { detail: err.message })) : String((err as Error).message ?? err);

  // ---------------------------------------------------------------- raw upload routes

  /** A POST that reads its own body: guard first; CSRF from the header, else from the form once read. */
  const uploadRoute = (path: string, permission: string, handle: (request: Request, ctx: RequestContext, checkCsrf: (fields: Record<string, string>) => void) => Promise<Response>) => {
    registry.route({ method: "POST", path, permission, kind: "action" });
    web.limitBody(path, uploadLimits.maxFileBytes + 1024 * 1024);
    web.app.route(
      "POST",
      path,
      async ({ request }: { request: Request }) => {
        const ctx = ctxOf(request);
        let later = false;
        try {
          web.guard({ permission }, ctx, request, {});
        } catch (err) {
          if (!(err instanceof CsrfFailed)) throw err;
          later = true;
        }
        return handle(request, ctx, (fields) => {
          if (later) web.guard({ permission }, ctx, request, fields);
        });
      },
      { parse: "none" },
    );
  };

  /** Reads the upload; any failure removes the temporary file. */
  const receive = async (request: Request, checkCsrf: (f: Record<string, string>) => void) => {
    const tmp = store.tempPath(".upload");
    const upload = await readUpload(request, tmp, uploadLimits);
    try {
      checkCsrf(upload.fields);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    return { upload, tmp };
  };

  /** Files of the upload: a zip extracted (hostile archives refused), else the one file. */
  const uploadedFiles = async (file: { path: string; name: string }, extract: boolean, batch: ReturnType<BlobStore["batch"]>): Promise<PackageFile[]> => {
    if (extract && /\.zip$/i.test(file.name)) return extractZip(file.path, batch, zipLimits);
    const name = cleanPackagePath(file.name.replace(/^.*[\\/]/, ""));
    if (!name) throw new ArchiveError("unsafe_path", file.name.slice(0, 100), `${file.name.slice(0, 100)}: not a usable file name`);
    const b = await batch.put(Bun.file(file.path).stream() as unknown as AsyncIterable<Uint8Array>, uploadLimits.maxFileBytes);
    return [{ path: name, sha256: b.sha256, size: b.size }];
  };

  const refused = (ctx: RequestContext, err: unknown) => {
    if (err instanceof ArchiveError || err instanceof ImportError || err instanceof UploadError) {
      recorder.record({ module: "packaging", action: "packages.history.refused", params: { reason: err.message.slice(0, 200) }, userId: ctx.session?.user.id, userLogin: ctx.session?.user.login, sourceIp: ctx.ip });
    }
  };

  // ---------------------------------------------------------------- list

  const listQuery = (query: Record<string, string | undefined>): PackagesQuery => ({
    q: str(query.q).slice(0, 100),
    sort: query.sort === "date" || query.sort === "version" ? query.sort : "name",
    dir: query.dir === "desc" ? "desc" : "asc",
    offset: /^\d{1,6}$/.test(str(query.offset)) ? Number(query.offset) : 0,
  });

  const NOTICES: Record<string, MessageKey> = { deleted: "packages.pending.deleted", saved: "packages.saved" };

  web.route({
    method: "GET", path: "/packages", permission: perms.view, kind: "page",
    handler: async ({ ctx, query }) => {
      const q = listQuery(query);
      const page = service.list({ search: q.q, sort: q.sort, desc: q.dir === "desc", offset: q.offset, limit: 50 });
      const props = {
        t: ctx.t, csrf: ctx.session!.csrf, query: q, total: page.total, rights: rightsText(ctx), canEdit: can(ctx, perms.edit), canDelete: can(ctx, perms.del),
        next: q.offset + 50 < page.total ? q.offset + 50 : null,
        rows: page.items.map((r) => ({ id: r.id, name: r.name, version: r.version, description: r.description, kind: r.kind, os: osText(ctx.t, r), date: formatForReader(r.created_at, tz, ctx.lang), size: humanSize(r.size_bytes), locked: r.locked_at !== null })),
      };
      if (ctx.isHtmx) return html(await <PackagesTable {...props} />);
      const notice = query.notice === "deleted" ? ctx.t("packages.pending.deleted", { count: 1 }) : NOTICES[str(query.notice)] ? ctx.t(NOTICES[str(query.notice)]!, { count: 1 }) : undefined;
      return web.page(ctx, { title: ctx.t("packages.title"), current: "/packages", body: <PackagesPage {...props} notice={notice} /> });
    },
  });

  // ---------------------------------------------------------------- add

  const addPage = (ctx: RequestContext, extra: { values?: MetaValues; origin?: string; errors?: FormErrors; sourcePackage?: string; directory?: string; status?: number } = {}) =>
    web.page(ctx, {
      title: ctx.t("packages.add.title"), current: "/packages/new", status: extra.status,
      body: (
        <AddPackagePage
          t={ctx.t} csrf={ctx.session!.csrf} values={extra.values ?? emptyMeta()} origin={extra.origin ?? "upload"} errors={extra.errors ?? {}}
          packages={packageOptions()} directories={listSourceDirectories(sourcesDir)} sourcesDir={sourcesDir} sourcePackage={extra.sourcePackage ?? ""} directory={extra.directory ?? ""}
        />
      ),
    });
  // The list of packages whose files to reuse is a separate option list (ids).
  web.route({ method: "GET", path: "/packages/new", permission: perms.edit, kind: "page", handler: ({ ctx }) => addPage(ctx) });

  uploadRoute("/packages/new", perms.edit, async (request, ctx, checkCsrf) => {
    let received;
    try {
      received = await receive(request, checkCsrf);
    } catch (err) {
      if (!(err instanceof UploadError)) throw err;
      refused(ctx, err);
      return addPage(ctx, { errors: { file: [messageOf(ctx.t, err)] }, status: err.code === "too_large" ? 413 : 400 });
    }
    const { upload, tmp } = received;
    const fields = upload.fields;
    const values = metaFromForm(fields);
    const origin = ["upload", "existing", "empty", "directory"].includes(fields.origin ?? "") ? fields.origin! : "upload";
    const batch = store.batch();
    const again = (errors: FormErrors, status = 422) => addPage(ctx, { values, origin, errors, status, sourcePackage: fields.sourcePackage, directory: fields.directory });
    try {
      let files: PackageFile[] = [];
      if (origin === "upload") {
        if (!upload.file) return again({ file: [ctx.t("packages.error.noFile")] });
        files = await uploadedFiles(upload.file, on(fields.extract), batch);
      } else if (origin === "existing") {
        const src = service.find(Number(fields.sourcePackage));
        if (!src) return again({ sourcePackage: [ctx.t("packages.error.noSource")] });
        files = service.files(src.id);
      } else if (origin === "directory") {
        files = await readDirectory(sourcesDir, fields.directory ?? "", batch);
      }
      const id = service.create(viewerOf(ctx), descriptorFromMeta(values), files, origin as "upload", ctx.ip);
      queueSync(id);
      return redirect(ctx, `/packages/${id}?notice=created`);
    } catch (err) {
      batch.rollback((sha) => service.isBlobUsed(sha));
      if (err instanceof DescriptorRejected) return again(formErrors(ctx.t, err.issues));
      if (err instanceof ArchiveError || err instanceof ImportError) {
        refused(ctx, err);
        return again({ [origin === "directory" ? "directory" : "file"]: [messageOf(ctx.t, err)] }, 400);
      }
      if (err instanceof Conflict) return again({ "": [messageOf(ctx.t, err)] }, 409);
      throw err;
    } finally {
      rmSync(tmp, { force: true });
    }
  });

  // ---------------------------------------------------------------- import (Medulla or ours)

  /** Imports a zip already on disk: detect, convert, validate, store. Throws on refusal. */
  const importZip = async (zipPath: string, ctx: RequestContext) => {
    const batch = store.batch();
    try {
      const files = await extractZip(zipPath, batch, zipLimits);
      return await importFiles(files, batch, ctx);
    } catch (err) {
      batch.rollback((sha) => service.isBlobUsed(sha));
      throw err;
    }
  };
  const importFiles = async (files: PackageFile[], batch: ReturnType<BlobStore["batch"]>, ctx: RequestContext) => {
    const byUuid = db.query<{ name: string; version: string }, [string]>("SELECT name, version FROM packages WHERE uuid = ?");
    const found = await detectPackage(files, store, { resolveDependency: (uuid) => byUuid.get(uuid) ?? null });
    if (found.kind === "none") throw new ImportError("not_package", "no descriptor");
    const id = service.create(viewerOf(ctx), found.descriptor, found.files, "import", ctx.ip);
    if (found.medullaId && /^[A-Za-z0-9-]{8,64}$/.test(found.medullaId) && !byUuid.get(found.medullaId)) {
      db.query("UPDATE packages SET uuid = ? WHERE id = ?").run(found.medullaId, id); // dependencies of later imports find it
    }
    const row = service.get(id);
    const warnings = found.warnings.map((w) => `${w.where}: ${w.message}`);
    recorder.record({ module: "packaging", action: "packages.history.imported", params: { name: row.name, version: row.version, warnings: warnings.length }, userId: ctx.session?.user.id, userLogin: ctx.session?.user.login, sourceIp: ctx.ip, target: { type: "package", id, name: `${row.name} ${row.version}` } });
    queueSync(id);
    void batch;
    return { row, warnings };
  };

  const importPage = (ctx: RequestContext, errors: string[], result?: { id: number; name: string; version: string; warnings: string[] }, status?: number) =>
    web.page(ctx, { title: ctx.t("packages.import.title"), current: "/packages", status, body: <ImportPage t={ctx.t} csrf={ctx.session!.csrf} errors={errors} result={result} directories={listSourceDirectories(sourcesDir)} sourcesDir={sourcesDir} /> });

  /** Imports a folder of the sources directory (a Medulla package folder, or ours). */
  const importDirectory = async (name: string, ctx: RequestContext) => {
    const batch = store.batch();
    try {
      return await importFiles(await readDirectory(sourcesDir, name, batch), batch, ctx);
    } catch (err) {
      batch.rollback((sha) => service.isBlobUsed(sha));
      throw err;
    }
  };
  web.route({
    method: "POST", path: "/packages/import/directory", permission: perms.edit, kind: "action",
    handler: async ({ ctx, body }) => {
      try {
        const { row, warnings } = await importDirectory(str(body.directory), ctx);
        return importPage(ctx, [], { id: row.id, name: row.name, version: row.version, warnings }, 201);
      } catch (err) {
        if (err instanceof DescriptorRejected) return importPage(ctx, [ctx.t("packages.error.invalid"), ...err.issues.map((i) => issueText(ctx.t, i))], undefined, 422);
        if (err instanceof ImportError) return (refused(ctx, err), importPage(ctx, [messageOf(ctx.t, err)], undefined, 400));
        if (err instanceof Conflict) return importPage(ctx, [messageOf(ctx.t, err)], undefined, 409);
        throw err;
      }
    },
  });

  web.route({ method: "GET", path: "/packages/import", permission: perms.edit, kind: "page", handler: ({ ctx }) => importPage(ctx, []) });

  uploadRoute("/packages/import", perms.edit, async (request, ctx, checkCsrf) => {
    let tmp = "";
    try {
      const r = await receive(request, checkCsrf);
      tmp = r.tmp;
      if (!r.upload.file) return importPage(ctx, [ctx.t("packages.error.noFile")], undefined, 422);
      const { row, warnings } = await importZip(r.upload.file.path, ctx);
      return importPage(ctx, [], { id: row.id, name: row.name, version: row.version, warnings }, 201);
    } catch (err) {
      if (err instanceof DescriptorRejected) return importPage(ctx, [ctx.t("packages.error.invalid"), ...err.issues.map((i) => issueText(ctx.t, i))], undefined, 422);
      if (err instanceof ArchiveError || err instanceof ImportError || err instanceof UploadError) {
        refused(ctx, err);
        return importPage(ctx, [messageOf(ctx.t, err)], undefined, err instanceof UploadError && err.code === "too_large" ? 413 : 400);
      }
      if (err instanceof Conflict) return importPage(ctx, [messageOf(ctx.t, err)], undefined, 409);
      throw err;
    } finally {
      if (tmp) rmSync(tmp, { force: true });
    }
  });

  const apiPackage = (r: PackageRow) => ({
    id: r.id, uuid: r.uuid, name: r.name, version: r.version, description: r.description, kind: r.kind, targetOs: JSON.parse(r.target_os) as string[], share: r.share,
    sizeBytes: r.size_bytes, fileCount: r.file_count, origin: r.origin, locked: r.locked_at !== null, createdAt: new Date(r.created_at).toISOString(), updatedAt: new Date(r.updated_at).toISOString(),
    previousId: r.previous_id,
  });
  const apiIssues = (t: T, issues: DescriptorIssue[]) => json({ error: { code: "invalid", message: t("packages.error.invalid"), fields: Object.fromEntries(issues.map((i) => [i.path || "/", issueText(t, i)])) } }, 422);
  const apiError = (ctx: RequestContext, code: string, status: number, err: unknown) => json({ error: { code, message: messageOf(ctx.t, err) } }, status);

  uploadRoute("/api/v1/packages/import", perms.edit, async (request, ctx, checkCsrf) => {
    let tmp = "";
    try {
      const r = await receive(request, checkCsrf);
      tmp = r.tmp;
      if (!r.upload.file) return json({ error: { code: "invalid", message: ctx.t("packages.error.noFile"), fields: { file: ctx.t("packages.error.noFile") } } }, 422);
      const { row, warnings } = await importZip(r.upload.file.path, ctx);
      return json({ package: apiPackage(row), warnings }, 201);
    } catch (err) {
      if (err instanceof DescriptorRejected) return apiIssues(ctx.t, err.issues);
      if (err instanceof UploadError) return (refused(ctx, err), apiError(ctx, err.code === "too_large" ? "too_large" : "bad_request", err.code === "too_large" ? 413 : 400, err));
      if (err instanceof ArchiveError || err instanceof ImportError) return (refused(ctx, err), apiError(ctx, "bad_archive", 400, err));
      throw err;
    } finally {
      if (tmp) rmSync(tmp, { force: true });
    }
  });

  // ---------------------------------------------------------------- pending (P3)

  const pendingPage = (ctx: RequestContext, q: string, notice?: string, warning?: string) => {
    const rows = service.pending(q).map((r) => ({ id: r.id, name: r.name, version: r.version, description: r.description, os: osText(ctx.t, r), relay: r.relay_id, state: r.state, error: r.error }));
    return web.page(ctx, { title: ctx.t("packages.pending.title"), current: "/packages/pending", body: <PendingPage t={ctx.t} csrf={ctx.session!.csrf} rows={rows} q={q} canDelete={can(ctx, perms.del)} canEdit={can(ctx, perms.edit)} notice={notice} warning={warning} /> });
  };
  web.route({ method: "GET", path: "/packages/pending", permission: perms.view, kind: "page", handler: ({ ctx, query }) => pendingPage(ctx, str(query.q).slice(0, 100), query.deleted ? ctx.t("packages.pending.deleted", { count: Number(query.deleted) || 0 }) : undefined, query.kept ? ctx.t("packages.pending.kept", { list: str(query.kept).slice(0, 500) }) : undefined) });
  const afterDelete = (ctx: RequestContext, r: { deleted: number; kept: string[] }) => redirect(ctx, `/packages/pending?deleted=${r.deleted}${r.kept.length ? `&kept=${encodeURIComponent(r.kept.join(", "))}` : ""}`);
  web.route({
    method: "POST", path: "/packages/pending/delete-all", permission: perms.del, kind: "action",
    handler: ({ ctx, body }) => afterDelete(ctx, service.deletePending(viewerOf(ctx), [...new Set(service.pending(str(body.q)).map((r) => r.id))], ctx.ip)),
  });
  web.route({ method: "POST", path: "/packages/pending/:id/delete", permission: perms.del, kind: "action", handler: ({ ctx, params }) => afterDelete(ctx, service.deletePending(viewerOf(ctx), [Number(params.id)], ctx.ip)) });
  web.route({
    method: "POST", path: "/packages/pending/:id/sync", permission: perms.edit, kind: "action",
    handler: async ({ ctx, params }) => {
      service.get(Number(params.id));
      await service.syncLocal(Number(params.id));
      return redirect(ctx, "/packages/pending");
    },
  });

  // ---------------------------------------------------------------- one version

  const idOf = (params: Record<string, string>) => {
    const id = Number(params.id);
    if (!Number.isInteger(id) || id < 1) throw new NotFound("packages.error.notFound");
    return id;
  };

  web.route({
    method: "GET", path: "/packages/:id", permission: perms.view, kind: "page",
    handler: ({ ctx, params, query }) => {
      const r = service.get(idOf(params));
      const d = service.descriptor(r.id);
      const t = ctx.t;
      const facts: [string, string][] = [
        [t("packages.field.name"), r.name], [t("packages.field.version"), r.version], [t("packages.field.description"), r.description || "—"], [t("packages.field.kind"), t(`packages.kind.${r.kind}`)],
        [t("packages.field.targetOs"), osText(t, r)], [t("packages.field.share"), r.share], [t("packages.field.transfer"), t(`packages.transfer.${d.transfer.method}`)],
        [t("packages.field.bandwidth"), String(d.transfer.bandwidthKbps)], [t("packages.field.priority"), t(`packages.priority.${d.priority}`)], [t("packages.field.launcher"), d.launcher ?? "—"],
        [t("packages.field.dependencies"), d.dependencies.map((x) => `${x.name}${x.version ? ` ${x.version}` : ""}`).join(", ") || "—"],
        [t("packages.field.associate"), d.inventory.associate ? `${d.inventory.software ?? ""} ${d.inventory.version ?? ""}`.trim() || t("packages.f.yes") : t("packages.f.no")],
        [t("packages.field.inventoryAfter"), t(d.inventoryAfter ? "packages.f.yes" : "packages.f.no")], [t("packages.field.removeAfter"), t(d.removeAfter ? "packages.f.yes" : "packages.f.no")],
        [t("packages.col.size"), humanSize(r.size_bytes)], [t("packages.col.date"), formatForReader(r.created_at, tz, ctx.lang)],
      ];
      const sections = Object.entries(d.steps).flatMap(([os, secs]) => Object.entries(secs ?? {}).map(([section, steps]) => ({ os, section, count: (steps ?? []).length })));
      const notice = query.notice === "created" ? t("packages.created", { name: r.name, version: r.version }) : query.notice === "saved" ? t("packages.saved") : query.notice === "newVersion" ? t("packages.savedNewVersion", { version: r.version }) : undefined;
      return web.page(ctx, {
        title: t("packages.view.title", { name: r.name, version: r.version }), current: "/packages",
        body: (
          <PackageViewPage
            t={t} csrf={ctx.session!.csrf} id={r.id} title={t("packages.view.title", { name: r.name, version: r.version })} notice={notice} facts={facts}
            files={service.files(r.id).map((f) => ({ path: f.path, size: humanSize(f.size), sha256: f.sha256 }))} sections={sections}
            sync={service.syncStates(r.id).map((s) => ({ relay: s.relay_id, state: s.state, error: s.error, at: formatForReader(s.updated_at, tz, ctx.lang) }))}
            descriptorJson={JSON.stringify(d, null, 2)} previousId={r.previous_id} canEdit={can(ctx, perms.edit)} canDelete={can(ctx, perms.del)} locked={r.locked_at !== null}
          />
        ),
      });
    },
  });

  web.route({
    method: "GET", path: "/packages/:id/medulla-package.json", permission: perms.view, kind: "page",
    handler: ({ params }) => json(service.descriptor(idOf(params)), 200, { "content-disposition": 'attachment; filename="medulla-package.json"' }),
  });

  const editPage = (ctx: RequestContext, r: PackageRow, values: MetaValues, errors: FormErrors = {}, status?: number) =>
    web.page(ctx, {
      title: ctx.t("packages.edit.title", { name: r.name, version: r.version }), current: "/packages", status,
      body: <EditPackagePage t={ctx.t} csrf={ctx.session!.csrf} id={r.id} title={ctx.t("packages.edit.title", { name: r.name, version: r.version })} locked={r.locked_at !== null} values={values} errors={errors} packages={packageOptions(r.id)} />,
    });
  web.route({ method: "GET", path: "/packages/:id/edit", permission: perms.edit, kind: "page", handler: ({ ctx, params }) => { const r = service.get(idOf(params)); return editPage(ctx, r, metaOf(service.descriptor(r.id))); } });
  web.route({
    method: "POST", path: "/packages/:id/edit", permission: perms.edit, kind: "action",
    handler: ({ ctx, params, body }) => {
      const r = service.get(idOf(params));
      const values = metaFromForm(body);
      try {
        const out = service.update(viewerOf(ctx), r.id, descriptorFromMeta(values, service.descriptor(r.id)), ctx.ip);
        return redirect(ctx, `/packages/${out.id}?notice=${out.newVersion ? "newVersion" : "saved"}`);
      } catch (err) {
        if (err instanceof DescriptorRejected) return editPage(ctx, r, values, formErrors(ctx.t, err.issues), 422);
        if (err instanceof Conflict) return editPage(ctx, r, values, { "": [messageOf(ctx.t, err)] }, 409);
        throw err;
      }
    },
  });

  // Replacing a version's files (a new upload); a locked version gets a new version instead.
  // (A fixed path, the id in the query: upload size limits are per exact path.)
  uploadRoute("/packages/replace-files", perms.edit, async (request, ctx, checkCsrf) => {
    const id = idOf({ id: new URL(request.url).searchParams.get("id") ?? "" });
    const r = service.get(id);
    let tmp = "";
    const batch = store.batch();
    try {
      const got = await receive(request, checkCsrf);
      tmp = got.tmp;
      if (!got.upload.file) return editPage(ctx, r, metaOf(service.descriptor(id)), { file: [ctx.t("packages.error.noFile")] }, 422);
      const files = await uploadedFiles(got.upload.file, on(got.upload.fields.extract), batch);
      const out = service.update(viewerOf(ctx), id, service.descriptor(id), ctx.ip, files);
      queueSync(out.id);
      return redirect(ctx, `/packages/${out.id}?notice=${out.newVersion ? "newVersion" : "saved"}`);
    } catch (err) {
      batch.rollback((sha) => service.isBlobUsed(sha));
      if (err instanceof ArchiveError || err instanceof UploadError) return (refused(ctx, err), editPage(ctx, r, metaOf(service.descriptor(id)), { file: [messageOf(ctx.t, err)] }, 400));
      throw err;
    } finally {
      if (tmp) rmSync(tmp, { force: true });
    }
  });

  web.route({
    method: "POST", path: "/packages/:id/delete", permission: perms.del, kind: "action",
    handler: ({ ctx, params }) => {
      service.remove(viewerOf(ctx), idOf(params), ctx.ip);
      return redirect(ctx, "/packages?notice=deleted");
    },
  });

  // ---------------------------------------------------------------- step editor

  const editorTarget = (d: Descriptor, query: Record<string, string | undefined>) => {
    const systems = [...new Set([...d.targetOs, ...(Object.keys(d.steps) as OsName[])])];
    const os = (OS_NAMES as readonly string[]).includes(str(query.os)) ? (str(query.os) as OsName) : (systems[0] ?? "windows");
    const section = (SECTION_NAMES as readonly string[]).includes(str(query.section)) ? (str(query.section) as SectionName) : d.kind === "uninstall" ? "uninstall" : "install";
    return { systems: systems.includes(os) ? systems : [...systems, os], os, section };
  };

  const editorProps = (ctx: RequestContext, r: PackageRow, target: { systems: string[]; os: string; section: string }, steps: StepEditorProps["steps"], issues: DescriptorIssue[], warnings: DescriptorIssue[], checked: boolean, notice?: string): StepEditorProps => {
    const prefix = `/steps/${target.os}/${target.section}/`;
    const stepIssues = new Map<number, string[]>();
    const general: string[] = [];
    for (const i of issues) {
      const m = i.path.startsWith(prefix) ? /^(\d+)/.exec(i.path.slice(prefix.length)) : null;
      if (m) {
        const n = Number(m[1]);
        stepIssues.set(n, [...(stepIssues.get(n) ?? []), issueText(ctx.t, i)]);
      }
      general.push(issueText(ctx.t, i));
    }
    return {
      t: ctx.t, csrf: ctx.session!.csrf, id: r.id, title: ctx.t("packages.steps.title", { name: r.name, version: r.version }), os: target.os, section: target.section, systems: target.systems,
      locked: r.locked_at !== null, steps, stepIssues, generalIssues: general, warnings: warnings.map((w) => issueText(ctx.t, w)), checked, notice,
    };
  };

  web.route({
    method: "GET", path: "/packages/:id/steps", permission: perms.edit, kind: "page",
    handler: ({ ctx, params, query }) => {
      const r = service.get(idOf(params));
      const d = service.descriptor(r.id);
      const target = editorTarget(d, query);
      const steps = (d.steps[target.os as OsName]?.[target.section as SectionName] ?? []).map(stepToForm);
      const v = validateDescriptor(d, { lookup: service.lookup });
      const notice = query.notice === "saved" ? ctx.t("packages.saved") : query.notice === "newVersion" ? ctx.t("packages.savedNewVersion", { version: r.version }) : undefined;
      return web.page(ctx, { title: ctx.t("packages.steps.title", { name: r.name, version: r.version }), current: "/packages", body: <StepEditorPage {...editorProps(ctx, r, target, steps, v.errors, v.warnings, false, notice)} /> });
    },
  });

  web.route({
    method: "POST", path: "/packages/:id/steps", permission: perms.edit, kind: "fragment",
    handler: async ({ ctx, params, query, body }) => {
      const r = service.get(idOf(params));
      const base = service.descriptor(r.id);
      const target = editorTarget(base, query);
      const op = str(body.op) || "check";
      const forms = applyOp(readStepForms(body), op, str(body.newAction), target.os);
      const candidate = structuredClone(base) as Descriptor;
      const secs = ((candidate.steps as Record<string, Record<string, unknown>>)[target.os] ??= {});
      if (forms.length) secs[target.section] = forms.map(formToStep);
      else delete secs[target.section];
      const v = validateDescriptor(candidate, { lookup: service.lookup });
      if (op === "save" && v.ok) {
        try {
          const out = service.update(viewerOf(ctx), r.id, candidate, ctx.ip);
          return redirect(ctx, `/packages/${out.id}/steps?os=${target.os}&section=${target.section}&notice=${out.newVersion ? "newVersion" : "saved"}`);
        } catch (err) {
          if (!(err instanceof DescriptorRejected)) throw err;
          const props = editorProps(ctx, r, target, forms, err.issues, err.warnings, true);
          return ctx.isHtmx ? html(await <StepEditor {...props} />, 422) : web.page(ctx, { title: props.title, current: "/packages", status: 422, body: <StepEditorPage {...props} /> });
        }
      }
      const props = editorProps(ctx, r, target, forms, v.errors, v.warnings, op === "check" || op === "save");
      const status = op === "save" ? 422 : 200;
      return ctx.isHtmx ? html(await <StepEditor {...props} />, status) : web.page(ctx, { title: props.title, current: "/packages", status, body: <StepEditorPage {...props} /> });
    },
  });

  registerPackagesApi(web, { service, perms, apiPackage, apiIssues, messageOf, queueSync });
  return { service, perms };
}

function registerPackagesApi(
  web: Web,
  deps: {
    service: PackagesService;
    perms: { view: string; edit: string; del: string };
    apiPackage: (r: PackageRow) => Record<string, unknown>;
    apiIssues: (t: T, issues: DescriptorIssue[]) => Response;
    messageOf: (t: T, err: unknown) => string;
    queueSync: (id: number) => number;
  },
) {
  const { service, perms, apiPackage, apiIssues } = deps;
  const Pkg = Type.Object(
    {
      id: Type.Integer(), uuid: Type.String(), name: Type.String(), version: Type.String(), description: Type.String(), kind: Type.String(), targetOs: Type.Array(Type.String()), share: Type.String(),
      sizeBytes: Type.Integer(), fileCount: Type.Integer(), origin: Type.String(), locked: Type.Boolean(), createdAt: Type.String({ format: "date-time" }), updatedAt: Type.String({ format: "date-time" }),
      previousId: Type.Union([Type.Integer(), Type.Null()]),
    },
  );
  const File = Type.Object({ path: Type.String(), sha256: Type.String(), size: Type.Integer() });
  const Id = Type.Object({ id: Type.Integer({ minimum: 1 }) });
  const offsetKey = Type.Object({ o: Type.Integer({ minimum: 0 }) });

  web.api({
    method: "GET", path: "/api/v1/packages", permission: perms.view, summary: "List packages (one item per version)", tags: ["packages"],
    query: Type.Composite([ListQuery, Type.Object({ search: Type.Optional(Type.String({ maxLength: 100 })), sort: Type.Optional(Type.Union([Type.Literal("name"), Type.Literal("date"), Type.Literal("version")])), desc: Type.Optional(Type.Boolean()) })]),
    response: Page(Pkg),
    handler: ({ query }) => {
      const offset = decodeCursor(offsetKey, query.cursor)?.o ?? 0;
      const limit = query.limit ?? 50;
      const page = service.list({ search: query.search, sort: query.sort, desc: query.desc, offset, limit });
      return { items: page.items.map(apiPackage) as never, next: offset + limit < page.total ? encodeCursor({ o: offset + limit }) : null };
    },
  });

  web.api({
    method: "GET", path: "/api/v1/packages/pending", permission: perms.view, summary: "Versions not yet synchronised to every distribution point (SPEC P3)", tags: ["packages"],
    query: Type.Object({ search: Type.Optional(Type.String({ maxLength: 100 })) }),
    response: Page(Type.Object({ package: Pkg, relayId: Type.String(), state: Type.String(), error: Type.String() })),
    handler: ({ query }) => ({ items: service.pending(query.search ?? "").map((r) => ({ package: apiPackage(r), relayId: r.relay_id, state: r.state, error: r.error })) as never, next: null }),
  });

  web.api({
    method: "DELETE", path: "/api/v1/packages/pending", permission: perms.del, summary: "Delete every pending version (those in use are kept and listed)", tags: ["packages"],
    query: Type.Object({ search: Type.Optional(Type.String({ maxLength: 100 })) }),
    response: Type.Object({ deleted: Type.Integer(), kept: Type.Array(Type.String()) }),
    handler: ({ ctx, query }) => service.deletePending(viewerOf(ctx), [...new Set(service.pending(query.search ?? "").map((r) => r.id))], ctx.ip),
  });

  web.api({
    method: "POST", path: "/api/v1/packages/validate", permission: perms.view, summary: "Validate a descriptor without saving it", tags: ["packages"],
    body: Type.Object({ descriptor: Type.Unknown() }),
    response: Type.Object({ ok: Type.Boolean(), errors: Type.Array(Type.Unknown()), warnings: Type.Array(Type.Unknown()) }),
    handler: ({ body }) => {
      const r = validateDescriptor(body.descriptor, { lookup: service.lookup });
      return { ok: r.ok, errors: r.errors, warnings: r.warnings };
    },
  });

  web.api({
    method: "GET", path: "/api/v1/packages/:id", permission: perms.view, summary: "One package version with its descriptor and files", tags: ["packages"],
    params: Id,
    response: Type.Object({ package: Pkg, descriptor: Type.Unknown(), files: Type.Array(File), sync: Type.Array(Type.Object({ relayId: Type.String(), state: Type.String(), error: Type.String() })) }),
    handler: ({ params }) => {
      const r = service.get(params.id);
      return { package: apiPackage(r) as never, descriptor: service.descriptor(r.id), files: service.files(r.id), sync: service.syncStates(r.id).map((s) => ({ relayId: s.relay_id, state: s.state, error: s.error })) };
    },
  });

  web.api({
    method: "POST", path: "/api/v1/packages", permission: perms.edit, summary: "Create a package version from a descriptor (no files, or the files of another version)", tags: ["packages"], status: 201,
    body: Type.Object({ descriptor: Type.Unknown(), filesFrom: Type.Optional(Type.Integer({ minimum: 1 })) }),
    response: Pkg,
    handler: ({ ctx, body }) => {
      const files = body.filesFrom ? service.files(body.filesFrom) : [];
      try {
        const id = service.create(viewerOf(ctx), body.descriptor, files, body.filesFrom ? "existing" : "empty", ctx.ip);
        deps.queueSync(id);
        return apiPackage(service.get(id)) as never;
      } catch (err) {
        if (err instanceof DescriptorRejected) return apiIssues(ctx.t, err.issues);
        throw err;
      }
    },
  });

  web.api({
    method: "PUT", path: "/api/v1/packages/:id", permission: perms.edit, summary: "Replace a version's descriptor; a deployed version is kept and a new version is created", tags: ["packages"],
    params: Id,
    body: Type.Object({ descriptor: Type.Unknown() }),
    response: Type.Object({ package: Pkg, newVersion: Type.Boolean() }),
    handler: ({ ctx, params, body }) => {
      try {
        const out = service.update(viewerOf(ctx), params.id, body.descriptor, ctx.ip);
        return { package: apiPackage(service.get(out.id)) as never, newVersion: out.newVersion };
      } catch (err) {
        if (err instanceof DescriptorRejected) return apiIssues(ctx.t, err.issues);
        throw err;
      }
    },
  });

  web.api({
    method: "DELETE", path: "/api/v1/packages/:id", permission: perms.del, summary: "Delete a version (refused while a deployment or another package needs it)", tags: ["packages"], status: 204,
    params: Id,
    handler: ({ ctx, params }) => {
      service.remove(viewerOf(ctx), params.id, ctx.ip);
    },
  });
}
