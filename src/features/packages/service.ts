/**
 * @module packages/service
 * Package versions in the database, their files in the blob store, and the rules around
 * them: every write validates the descriptor (dependencies included), a version used by a
 * deployment is locked (editing it saves a new version), a version a deployment or another
 * package still needs cannot be deleted, every change is in the history (module
 * "packaging"), and each distribution point's copy is tracked (SPEC P3).
 *
 * Hooks for the deployment engine: `markDeployed(id)` locks a version when a deployment
 * first uses it, `isDeployed(id)`, `setUsage(fn)` tells how many deployments still use a
 * version (delete is refused while > 0), `manifest(id)` gives the files to transfer and
 * `blobPath(sha)` where each is, `dependencyOrder(id)` what to deploy first.
 */
import type { Database } from "bun:sqlite";
import type { Clock } from "../../clock.ts";
import { Conflict, NotFound } from "../../errors.ts";
import type { Recorder } from "../history/service.ts";
import type { Viewer } from "../entities/service.ts";
import type { BlobStore } from "./blobs.ts";
import { type Dependency, type Descriptor, type DescriptorIssue, validateDescriptor } from "./descriptor.ts";

export type Origin = "empty" | "upload" | "existing" | "directory" | "import";
export type SyncState = "pending" | "syncing" | "synced" | "error";
export const LOCAL_RELAY = "local";

export interface PackageRow {
  id: number;
  uuid: string;
  name: string;
  version: string;
  description: string;
  kind: "install" | "uninstall" | "script";
  target_os: string;
  share: string;
  descriptor: string;
  size_bytes: number;
  file_count: number;
  origin: Origin;
  created_at: number;
  updated_at: number;
  created_by: number | null;
  locked_at: number | null;
  previous_id: number | null;
}

export interface PackageFile {
  path: string;
  sha256: string;
  size: number;
}

export interface SyncRow {
  package_id: number;
  relay_id: string;
  state: SyncState;
  error: string;
  updated_at: number;
}

/** A descriptor that failed validation: the issues, by JSON pointer. */
export class DescriptorRejected extends Error {
  constructor(
    readonly issues: DescriptorIssue[],
    readonly warnings: DescriptorIssue[] = [],
  ) {
    super(`invalid descriptor: ${issues.map((i) => `${i.path || "/"} ${i.message}`).join("; ").slice(0, 500)}`);
    this.name = "DescriptorRejected";
  }
}

export type SortKey = "name" | "date" | "version";

export interface ListOptions {
  search?: string;
  sort?: SortKey;
  desc?: boolean;
  offset?: number;
  limit?: number;
}

/** Compares versions the way people read them: 1.10 after 1.9, 2.0-beta before 2.0.1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[._+~-]/);
  const pb = b.split(/[._+~-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? "";
    const y = pb[i] ?? "";
    if (x === y) continue;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) return nx - ny;
    if (x === "") return -1;
    if (y === "") return 1;
    return x.localeCompare(y, "en");
  }
  return 0;
}

/** The next free version after `v` among `taken`: 1.0.0 → 1.0.1, 2 → 3, beta → beta.1. */
export function bumpVersion(v: string, taken: (v: string) => boolean): string {
  const m = /^(.*?)(\d+)([^0-9]*)$/.exec(v);
  let candidate = v;
  for (let i = 1; i < 10_000; i++) {
    candidate = m ? `${m[1]}${Number(m[2]) + i}${m[3]}` : `${v}.${i}`;
    if (candidate.length <= 40 && !taken(candidate)) return candidate;
  }
  throw new Conflict("packages.error.noVersion");
}

export function createPackagesService(deps: { db: Database; clock: Clock; recorder: Recorder; store: BlobStore }) {
  const { db, clock, recorder, store } = deps;
  let usage: (packageId: number) => number = () => 0;
  const changeListeners: ((id: number, change: "created" | "updated" | "deleted") => void)[] = [];
  const emit = (id: number, change: "created" | "updated" | "deleted") => {
    for (const l of changeListeners) l(id, change);
  };

  const q = {
    byId: db.query<PackageRow, [number]>("SELECT * FROM packages WHERE id = ?"),
    byNameVersion: db.query<PackageRow, [string, string]>("SELECT * FROM packages WHERE name = ? COLLATE NOCASE AND version = ?"),
    byName: db.query<PackageRow, [string]>("SELECT * FROM packages WHERE name = ? COLLATE NOCASE"),
    all: db.query<PackageRow, []>("SELECT * FROM packages"),
    files: db.query<PackageFile, [number]>("SELECT path, sha256, size FROM package_files WHERE package_id = ? ORDER BY path"),
    shaUsed: db.query<{ n: number }, [string]>("SELECT count(*) AS n FROM package_files WHERE sha256 = ?"),
    allShas: db.query<{ sha256: string }, []>("SELECT DISTINCT sha256 FROM package_files"),
    sync: db.query<SyncRow, [number]>("SELECT * FROM package_sync WHERE package_id = ? ORDER BY relay_id"),
  };

  const row = (id: number): PackageRow => {
    const r = q.byId.get(id);
    if (!r) throw new NotFound("packages.error.notFound");
    return r;
  };
  const descriptorOf = (r: PackageRow): Descriptor => JSON.parse(r.descriptor) as Descriptor;

  /** Newest version of a name, or the exact one asked for. */
  const findDependency = (dep: Dependency): PackageRow | null => {
    if (dep.version) return q.byNameVersion.get(dep.name, dep.version) ?? null;
    const all = q.byName.all(dep.name);
    all.sort((a, b) => compareVersions(b.version, a.version));
    return all[0] ?? null;
  };
  const lookup = (dep: Dependency) => {
    const r = findDependency(dep);
    return r ? descriptorOf(r) : null;
  };

  function validate(d: unknown): Descriptor {
    const r = validateDescriptor(d, { lookup });
    if (!r.ok) throw new DescriptorRejected(r.errors, r.warnings);
    return r.descriptor!;
  }

  const who = (viewer: Viewer | null, ip?: string) => (viewer ? { userId: viewer.id, userLogin: viewer.login, sourceIp: ip } : { who: "system", sourceIp: ip });

  const insertFiles = (id: number, files: readonly PackageFile[]) => {
    const ins = db.query("INSERT INTO package_files (package_id, path, sha256, size) VALUES (?, ?, ?, ?)");
    for (const f of files) ins.run(id, f.path, f.sha256, f.size);
  };

  const setSync = (id: number, state: SyncState, error = "", relay = LOCAL_RELAY) => {
    db.query(
      `INSERT INTO package_sync (package_id, relay_id, state, error, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (package_id, relay_id) DO UPDATE SET state = excluded.state, error = excluded.error, updated_at = excluded.updated_at`,
    ).run(id, relay, state, error.slice(0, 500), clock.now());
  };

  function insert(viewer: Viewer | null, d: Descriptor, files: readonly PackageFile[], origin: Origin, previousId: number | null): number {
    const now = clock.now();
    const dedup = new Map<string, PackageFile>();
    for (const f of files) dedup.set(f.path, f);
    const list = [...dedup.values()];
    const r = db
      .query<{ id: number }, Record<string, string | number | null>>(
        `INSERT INTO packages (uuid, name, version, description, kind, target_os, share, descriptor, size_bytes, file_count, origin, created_at, updated_at, created_by, previous_id)
         VALUES ($uuid, $name, $version, $description, $kind, $os, $share, $descriptor, $size, $count, $origin, $now, $now, $by, $prev) RETURNING id`,
      )
      .get({
        $uuid: crypto.randomUUID(), $name: d.name, $version: d.version, $description: d.description, $kind: d.kind, $os: JSON.stringify(d.targetOs),
        $share: d.share, $descriptor: JSON.stringify(d), $size: list.reduce((s, f) => s + f.size, 0), $count: list.length, $origin: origin,
        $now: now, $by: viewer?.id ?? null, $prev: previousId,
      })!;
    insertFiles(r.id, list);
    setSync(r.id, "pending");
    return r.id;
  }

  const service = {
    store,
    validate,
    lookup,
    findDependency,

    onChange(fn: (id: number, change: "created" | "updated" | "deleted") => void): void {
      changeListeners.push(fn);
    },

    /** The deployment engine says how many deployments still use a version. */
    setUsage(fn: (packageId: number) => number): void {
      usage = fn;
    },

    get(id: number): PackageRow {
      return row(id);
    },
    find(id: number): PackageRow | null {
      return q.byId.get(id) ?? null;
    },
    descriptor(id: number): Descriptor {
      return descriptorOf(row(id));
    },
    files(id: number): PackageFile[] {
      row(id);
      return q.files.all(id);
    },
    /** The files to transfer, with where each blob is on disk. */
    manifest(id: number): (PackageFile & { blob: string })[] {
      return service.files(id).map((f) => ({ ...f, blob: store.path(f.sha256) }));
    },
    blobPath(sha256: string): string {
      return store.path(sha256);
    },
    isDeployed(id: number): boolean {
      return row(id).locked_at !== null;
    },
    /** Locks a version: from now on editing it saves a new version. Idempotent. */
    markDeployed(id: number): void {
      db.query("UPDATE packages SET locked_at = ? WHERE id = ? AND locked_at IS NULL").run(clock.now(), id);
    },
    /**
     * The versions to deploy before this one, dependencies first (depth-first, each once);
     * throws Conflict on a dependency that no longer exists or a cycle.
     */
    dependencyOrder(id: number): PackageRow[] {
      const out: PackageRow[] = [];
      const done = new Set<number>();
      const visiting = new Set<number>();
      const visit = (r: PackageRow, depth: number) => {
        if (done.has(r.id)) return;
        if (visiting.has(r.id) || depth > 64) throw new Conflict("packages.error.dependencyCycle", { name: r.name, version: r.version });
        visiting.add(r.id);
        for (const dep of descriptorOf(r).dependencies) {
          const found = findDependency(dep);
          if (!found) throw new Conflict("packages.error.dependencyMissing", { name: dep.name, version: dep.version ?? "" });
          visit(found, depth + 1);
        }
        visiting.delete(r.id);
        done.add(r.id);
        out.push(r);
      };
      visit(row(id), 0);
      return out.slice(0, -1);
    },
    /** Packages that list this one (any version of its name, or this exact version) as a dependency. */
    dependents(id: number): PackageRow[] {
      const r = row(id);
      return q.all.all().filter((p) => p.id !== id && descriptorOf(p).dependencies.some((d) => d.name.toLowerCase() === r.name.toLowerCase() && (!d.version || d.version === r.version)));
    },

    list(opts: ListOptions = {}): { items: PackageRow[]; total: number } {
      const s = (opts.search ?? "").trim().toLowerCase();
      let items = q.all.all();
      if (s) items = items.filter((p) => `${p.name}\n${p.version}\n${p.description}\n${p.share}`.toLowerCase().includes(s));
      const sort = opts.sort ?? "name";
      const cmp: (a: PackageRow, b: PackageRow) => number =
        sort === "date"
          ? (a, b) => a.created_at - b.created_at || a.id - b.id
          : sort === "version"
            ? (a, b) => compareVersions(a.version, b.version) || a.name.localeCompare(b.name, "fr", { sensitivity: "base" }) || a.id - b.id
            : (a, b) => a.name.localeCompare(b.name, "fr", { sensitivity: "base" }) || compareVersions(a.version, b.version) || a.id - b.id;
      items.sort(opts.desc ? (a, b) => cmp(b, a) : cmp);
      const offset = Math.max(0, opts.offset ?? 0);
      return { items: items.slice(offset, offset + (opts.limit ?? 50)), total: items.length };
    },

    /** A new package version from a descriptor and files already in the blob store. */
    create(viewer: Viewer | null, input: unknown, files: readonly PackageFile[], origin: Origin, ip?: string): number {
      const d = validate(input);
      for (const f of files) if (!store.has(f.sha256)) throw new Error(`blob ${f.sha256} is missing`);
      const id = db.transaction(() => {
        if (q.byNameVersion.get(d.name, d.version)) throw new Conflict("packages.error.exists", { name: d.name, version: d.version });
        const id = insert(viewer, d, files, origin, null);
        recorder.record({ module: "packaging", action: "packages.history.created", params: { name: d.name, version: d.version, files: files.length }, ...who(viewer, ip), target: { type: "package", id, name: `${d.name} ${d.version}` } });
        return id;
      })();
      emit(id, "created");
      return id;
    },

    /**
     * Saves a descriptor (and optionally a new file list) on a version. A locked version is
     * left as it is: the change becomes a new version (the version number is raised when the
     * caller kept it). Returns the id written and whether it is a new version.
     */
    update(viewer: Viewer | null, id: number, input: unknown, ip?: string, files?: readonly PackageFile[]): { id: number; newVersion: boolean; version: string } {
      const current = row(id);
      const before = files ? q.files.all(id) : [];
      const result = db.transaction(() => {
        let d = validate(input);
        const keepFiles = files ?? q.files.all(id);
        if (current.locked_at !== null) {
          if (d.name.toLowerCase() === current.name.toLowerCase() && d.version === current.version) {
            d = { ...d, version: bumpVersion(d.version, (v) => Boolean(q.byNameVersion.get(d.name, v))) };
            d = validate(d);
          }
          if (q.byNameVersion.get(d.name, d.version)) throw new Conflict("packages.error.exists", { name: d.name, version: d.version });
          const nid = insert(viewer, d, keepFiles, current.origin, id);
          recorder.record({ module: "packaging", action: "packages.history.newVersion", params: { name: d.name, version: d.version, from: current.version }, ...who(viewer, ip), target: { type: "package", id: nid, name: `${d.name} ${d.version}` } });
          return { id: nid, newVersion: true, version: d.version };
        }
        const other = q.byNameVersion.get(d.name, d.version);
        if (other && other.id !== id) throw new Conflict("packages.error.exists", { name: d.name, version: d.version });
        db.query(
          `UPDATE packages SET name = ?, version = ?, description = ?, kind = ?, target_os = ?, share = ?, descriptor = ?, updated_at = ?,
             size_bytes = ?, file_count = ? WHERE id = ?`,
        ).run(d.name, d.version, d.description, d.kind, JSON.stringify(d.targetOs), d.share, JSON.stringify(d), clock.now(), keepFiles.reduce((s, f) => s + f.size, 0), keepFiles.length, id);
        if (files) {
          db.query("DELETE FROM package_files WHERE package_id = ?").run(id);
          insertFiles(id, files);
          setSync(id, "pending");
        }
        recorder.record({ module: "packaging", action: "packages.history.updated", params: { name: d.name, version: d.version }, ...who(viewer, ip), target: { type: "package", id, name: `${d.name} ${d.version}` } });
        return { id, newVersion: false, version: d.version };
      })();
      // Files replaced in place: blobs no version lists any more go now.
      for (const f of before) if (q.shaUsed.get(f.sha256)!.n === 0) store.remove(f.sha256);
      emit(result.id, result.newVersion ? "created" : "updated");
      return result;
    },

    /** Deletes a version; refused while a deployment or another package needs it. */
    remove(viewer: Viewer | null, id: number, ip?: string): void {
      const r = row(id);
      const n = usage(id);
      if (n > 0) throw new Conflict("packages.error.inUse", { name: r.name, version: r.version, count: n });
      const needing = service.dependents(id).filter((p) => {
        // Another version of the same name still satisfies an unversioned dependency.
        const deps = descriptorOf(p).dependencies.filter((d) => d.name.toLowerCase() === r.name.toLowerCase());
        return deps.some((d) => d.version === r.version || (!d.version && q.byName.all(r.name).length === 1));
      });
      if (needing.length) throw new Conflict("packages.error.dependedOn", { name: r.name, version: r.version, by: needing.map((p) => `${p.name} ${p.version}`).join(", ") });
      const files = q.files.all(id);
      db.transaction(() => {
        db.query("DELETE FROM packages WHERE id = ?").run(id);
        recorder.record({ module: "packaging", action: "packages.history.deleted", params: { name: r.name, version: r.version }, ...who(viewer, ip), target: { type: "package", id, name: `${r.name} ${r.version}` } });
      })();
      for (const f of files) if (q.shaUsed.get(f.sha256)!.n === 0) store.remove(f.sha256);
      emit(id, "deleted");
    },

    /** Blobs no version references (failed uploads, deleted versions) and stale temporary files. */
    collectGarbage(): number {
      return store.collect(new Set(q.allShas.all().map((r) => r.sha256)));
    },
    isBlobUsed(sha256: string): boolean {
      return q.shaUsed.get(sha256)!.n > 0;
    },

    // ----- distribution points (SPEC P3)

    syncStates(id: number): SyncRow[] {
      return q.sync.all(id);
    },
    /** Versions not yet synchronised to every distribution point. */
    pending(search = ""): (PackageRow & { relay_id: string; state: SyncState; error: string; sync_at: number })[] {
      const s = search.trim().toLowerCase();
      const rows = db
        .query<PackageRow & { relay_id: string; state: SyncState; error: string; sync_at: number }, []>(
          `SELECT p.*, s.relay_id, s.state, s.error, s.updated_at AS sync_at FROM package_sync s JOIN packages p ON p.id = s.package_id
           WHERE s.state <> 'synced' ORDER BY p.name COLLATE NOCASE, p.id, s.relay_id`,
        )
        .all();
      return s ? rows.filter((r) => `${r.name}\n${r.version}\n${r.description}`.toLowerCase().includes(s)) : rows;
    },
    setSync,
    /**
     * Synchronises a version to the appliance itself: every blob present and intact.
     * (A relay's copy will be driven from here once relay mode exists.)
     */
    async syncLocal(id: number): Promise<SyncState> {
      if (!q.byId.get(id)) return "error";
      setSync(id, "syncing");
      for (const f of q.files.all(id)) {
        if (!(await store.verify(f.sha256))) {
          setSync(id, "error", `${f.path}: missing or altered on disk`);
          recorder.record({ module: "packaging", action: "packages.history.syncFailed", params: { name: row(id).name, version: row(id).version, file: f.path }, who: "system" });
          return "error";
        }
      }
      setSync(id, "synced");
      return "synced";
    },
    /** Deletes pending versions (one, or all listed); versions in use are kept and reported. */
    deletePending(viewer: Viewer | null, ids: readonly number[], ip?: string): { deleted: number; kept: string[] } {
      let deleted = 0;
      const kept: string[] = [];
      for (const id of ids) {
        const r = q.byId.get(id);
        if (!r) continue;
        try {
          service.remove(viewer, id, ip);
          deleted++;
        } catch (err) {
          if (!(err instanceof Conflict)) throw err;
          kept.push(`${r.name} ${r.version}`);
        }
      }
      return { deleted, kept };
    },
  };
  return service;
}

export type PackagesService = ReturnType<typeof createPackagesService>;
