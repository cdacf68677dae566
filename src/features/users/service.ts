/**
 * @module users/service
 * User accounts (SPEC U1, U2) and their rights (U3). Rules an administrator relies on:
 * logins are unique whatever their case; passwords follow the strength rule; the last
 * super-administrator can be neither deleted nor demoted, and nobody deletes or demotes
 * itself; only a super-administrator makes or edits super-administrators; an editor
 * grants only entities it sees and keys it holds. Every write is one transaction and
 * lands in the history.
 */
import type { Database } from "bun:sqlite";
import type { Clock } from "../../clock.ts";
import { Conflict, Forbidden, Invalid, NotFound } from "../../errors.ts";
import type { MessageKey } from "../../i18n/index.ts";
import { hashPassword, isStrongPassword } from "../auth/password.ts";
import type { EntitiesService, Viewer } from "../entities/service.ts";
import type { Recorder } from "../history/service.ts";
import { checkPhoto } from "./photo.ts";
import { usersRepo, type UserListRow, type UserRecord, type UserWrite } from "./repo.ts";

export const LOGIN = /^[\p{L}\p{N}._@-]{1,64}$/u;
const EMAIL = /^[^\s@<>()]{1,64}@[^\s@<>()]{1,255}\.[^\s@<>()]{2,}$/;
const PHONE = /^[0-9+().\s/-]{0,32}$/;

export interface UserInput {
  login?: unknown;
  password?: unknown;
  confirm?: unknown;
  firstName?: unknown;
  lastName?: unknown;
  email?: unknown;
  phone?: unknown;
  mobile?: unknown;
  primaryGroupId?: unknown;
  secondaryGroupIds?: unknown;
  entityIds?: unknown;
  isSuper?: unknown;
  isPublic?: unknown;
  isRecursive?: unknown;
  hasStatistics?: unknown;
  photo?: unknown;
  removePhoto?: unknown;
}

export interface UserDetail extends UserRecord {
  secondaryGroupIds: number[];
  entityIds: number[];
}

const text = (v: unknown, max: number) => (typeof v === "string" ? v.trim().slice(0, max + 1) : "");
const flag = (v: unknown) => v === true || v === "on" || v === "true" || v === "1";
/** Form fields that may come once or many times, as a list of integer ids. */
export const idList = (v: unknown): number[] =>
  [...new Set((Array.isArray(v) ? v : v === undefined || v === "" ? [] : [v]).map(Number).filter((n) => Number.isInteger(n) && n > 0))];

export function createUsersService(deps: {
  db: Database;
  clock: Clock;
  recorder: Recorder;
  entities: EntitiesService;
  groupIds: () => Set<number>;
  onRightsChanged: () => void;
}) {
  const repo = usersRepo(deps.db);
  const now = () => deps.clock.now();

  const audit = (viewer: Viewer, ip: string, action: MessageKey, target: { id: number; login: string }, extra: Record<string, string> = {}) =>
    deps.recorder.record({ module: "users", action, params: { login: target.login, ...extra }, criterion: "user", userId: viewer.id, userLogin: viewer.login, sourceIp: ip, target: { type: "user", id: target.id, name: target.login } });

  /** A user is visible when it shares an entity with the viewer (or has none and the viewer is super). */
  function mustSee(viewer: Viewer, id: number): UserRecord {
    const u = repo.find(id);
    if (!u) throw new NotFound();
    if (viewer.isSuper || viewer.id === id) return u;
    if (u.is_super) throw new Forbidden();
    const visible = deps.entities.visibleIds(viewer);
    if (!repo.entities(id).some((e) => visible.has(e))) throw new Forbidden();
    return u;
  }

  async function validate(viewer: Viewer, input: UserInput, existing: UserRecord | null): Promise<{ write: UserWrite; password: string | null; secondary: number[]; entities: number[] }> {
    const fields: Record<string, MessageKey> = {};
    const login = text(input.login, 64);
    const email = text(input.email, 320);
    const write: UserWrite = {
      login,
      email: email || null,
      firstName: text(input.firstName, 100),
      lastName: text(input.lastName, 100),
      phone: text(input.phone, 32),
      mobile: text(input.mobile, 32),
      primaryGroupId: idList(input.primaryGroupId)[0] ?? null,
      isSuper: flag(input.isSuper),
      isPublic: flag(input.isPublic),
      isRecursive: flag(input.isRecursive),
      hasStatistics: flag(input.hasStatistics),
    };
    if (!login) fields.login = "error.field.required";
    else if (!LOGIN.test(login)) fields.login = "users.error.login";
    else {
      const clash = repo.findByLogin(login);
      if (clash && clash.id !== existing?.id) fields.login = "users.error.loginTaken";
    }
    if (email && !EMAIL.test(email)) fields.email = "users.error.email";
    else if (email) {
      const clash = repo.findByEmail(email);
      if (clash && clash.id !== existing?.id) fields.email = "users.error.emailTaken";
    }
    for (const k of ["firstName", "lastName"] as const) if (write[k].length > 100) fields[k] = "error.field.tooLong";
    for (const k of ["phone", "mobile"] as const) if (!PHONE.test(write[k])) fields[k] = "users.error.phone";

    const password = typeof input.password === "string" ? input.password : "";
    const confirm = typeof input.confirm === "string" ? input.confirm : "";
    if (!existing && !password) fields.password = "error.field.required";
    if (password && !isStrongPassword(password)) fields.password = "password.weak";
    else if (password && password !== confirm) fields.confirm = "password.mismatch";

    const groups = deps.groupIds();
    if (write.primaryGroupId !== null && !groups.has(write.primaryGroupId)) fields.primaryGroupId = "users.error.group";
    const secondary = idList(input.secondaryGroupIds).filter((g) => g !== write.primaryGroupId);
    if (secondary.some((g) => !groups.has(g))) fields.secondaryGroupIds = "users.error.group";

    // Entities: what the viewer cannot see it neither grants nor takes away.
    const visible = deps.entities.visibleIds(viewer);
    const asked = idList(input.entityIds);
    if (asked.some((e) => !visible.has(e))) fields.entityIds = "users.error.entity";
    const kept = existing ? repo.entities(existing.id).filter((e) => !visible.has(e)) : [];
    const entities = [...new Set([...kept, ...asked.filter((e) => visible.has(e))])];

    // Super-administrator: only granted, changed or kept by a super-administrator.
    if (!viewer.isSuper) {
      if (write.isSuper) fields.isSuper = "users.error.superOnly";
      if (existing?.is_super) throw new Forbidden();
    }
    if (existing && existing.is_super && !write.isSuper) {
      if (existing.id === viewer.id) fields.isSuper = "users.error.demoteSelf";
      else if (repo.countSupers() <= 1) fields.isSuper = "users.error.lastSuper";
    }
    if (Object.keys(fields).length) throw new Invalid(fields);
    return { write, password: password || null, secondary, entities };
  }

  async function photoOf(input: UserInput): Promise<{ bytes: Uint8Array; type: string } | null | undefined> {
    if (flag(input.removePhoto)) return null;
    const file = input.photo;
    if (!(file instanceof Blob) || file.size === 0) return undefined;
    if (file.size > 512 * 1024) throw new Invalid({ photo: "users.error.photoSize" });
    const bytes = new Uint8Array(await file.arrayBuffer());
    const check = checkPhoto(bytes);
    if (!check.ok) throw new Invalid({ photo: check.reason === "type" ? "users.error.photoType" : check.reason === "size" ? "users.error.photoSize" : "users.error.photoDimensions" });
    return { bytes, type: check.type };
  }

  return {
    list(viewer: Viewer, opts: { search?: string; after?: number; limit?: number } = {}): { items: UserListRow[]; next: number | null } {
      const limit = Math.min(Math.max(opts.limit ?? 25, 1), 500);
      const search = (opts.search ?? "").trim().slice(0, 100);
      const visible = deps.entities.visibleIds(viewer);
      const seesAll = viewer.isSuper;
      const items: UserListRow[] = [];
      let after = opts.after ?? 0;
      // Rights filter after SQL: fetch pages until one is full or the table is done.
      for (;;) {
        const batch = repo.list(search, after, limit + 1);
        for (const u of batch) {
          if (seesAll || u.id === viewer.id || (!u.is_super && repo.entities(u.id).some((e) => visible.has(e)))) items.push(u);
        }
        if (batch.length <= limit || items.length > limit) break;
        after = batch.at(-1)!.id;
      }
      const page = items.slice(0, limit);
      return { items: page, next: items.length > limit ? page.at(-1)!.id : null };
    },

    get(viewer: Viewer, id: number): UserDetail {
      const u = mustSee(viewer, id);
      return { ...u, secondaryGroupIds: repo.secondary(id), entityIds: repo.entities(id) };
    },

    photo(viewer: Viewer, id: number) {
      mustSee(viewer, id);
      return repo.photo(id);
    },

    async create(viewer: Viewer, input: UserInput, ip: string): Promise<number> {
      const v = await validate(viewer, input, null);
      const photo = await photoOf(input);
      const hash = await hashPassword(v.password!);
      const id = deps.db.transaction(() => {
        const id = repo.insert({ ...v.write, hash, mustChange: false, now: now() });
        repo.setSecondary(id, v.secondary);
        repo.setEntities(id, v.entities);
        if (photo) repo.setPhoto(id, photo.bytes, photo.type, now());
        audit(viewer, ip, "users.history.created", { id, login: v.write.login });
        return id;
      })();
      deps.onRightsChanged();
      return id;
    },

    async update(viewer: Viewer, id: number, input: UserInput, ip: string): Promise<void> {
      const existing = mustSee(viewer, id);
      const v = await validate(viewer, input, existing);
      const photo = await photoOf(input);
      const hash = v.password ? await hashPassword(v.password) : null;
      deps.db.transaction(() => {
        repo.update(id, v.write, now());
        repo.setSecondary(id, v.secondary);
        repo.setEntities(id, v.entities);
        if (hash) repo.setPassword(id, hash, id !== viewer.id, now());
        if (photo !== undefined) repo.setPhoto(id, photo?.bytes ?? null, photo?.type ?? null, now());
        audit(viewer, ip, "users.history.updated", { id, login: v.write.login });
        if (existing.is_super !== (v.write.isSuper ? 1 : 0)) {
          audit(viewer, ip, v.write.isSuper ? "users.history.promoted" : "users.history.demoted", { id, login: v.write.login });
        }
      })();
      deps.onRightsChanged();
    },

    remove(viewer: Viewer, id: number, ip: string): void {
      const u = mustSee(viewer, id);
      if (id === viewer.id) throw new Conflict("users.error.deleteSelf");
      if (u.is_super && !viewer.isSuper) throw new Forbidden();
      deps.db.transaction(() => {
        if (u.is_super && repo.countSupers() <= 1) throw new Conflict("users.error.lastSuper");
        repo.remove(id);
        audit(viewer, ip, "users.history.deleted", { id, login: u.login });
      })();
      deps.onRightsChanged();
    },

    /** The user's own keys, and those its groups give it (with the group's name). */
    rights(viewer: Viewer, id: number): { own: string[]; inherited: { key: string; name: string }[]; user: UserRecord } {
      const user = mustSee(viewer, id);
      return { own: repo.grants(id), inherited: repo.inheritedGrants(id), user };
    },

    /** Replaces the user's own keys; the caller checked that the editor may grant each. */
    setRights(viewer: Viewer, id: number, keys: string[], ip: string): void {
      const user = mustSee(viewer, id);
      if (user.is_super && !viewer.isSuper) throw new Forbidden();
      deps.db.transaction(() => {
        repo.setGrants(id, keys);
        audit(viewer, ip, "users.history.rights", { id, login: user.login }, { keys: keys.join(", ") || "—" });
      })();
      deps.onRightsChanged();
    },

    /** Keys held by a user: its own and its groups'. Cached by the caller (see index). */
    effectiveGrants: (id: number) => repo.effectiveGrants(id),
    grantedEntities: (id: number) => ({ ids: repo.entities(id), recursive: repo.isRecursive(id) }),
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
