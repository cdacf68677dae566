/**
 * @module users/acl
 * What the ACL editor shows and accepts, shared by users and groups: the registry's keys
 * by category, and the rule that an editor only grants keys it holds itself (the
 * super-administrator holds all). Keys the editor cannot grant keep their current state.
 */
import type { Access, Grantee } from "../../access.ts";
import { Invalid } from "../../errors.ts";
import type { T } from "../../i18n/index.ts";
import type { Registry } from "../../registry.ts";
import type { AclCategory } from "../../../views/users/acl.tsx";

export function aclCategories(t: T, registry: Registry, access: Access, editor: Grantee, granted: string[], inherited: { key: string; name: string }[]): AclCategory[] {
  const own = new Set(granted);
  return [...registry.permissionsByCategory()].map(([category, defs]) => ({
    label: t(category),
    keys: defs.map((d) => ({
      key: d.key,
      label: t(d.label),
      granted: own.has(d.key),
      via: inherited.filter((i) => i.key === d.key).map((i) => i.name),
      grantable: access.can(editor, d.key),
    })),
  }));
}

/** The new key set: asked keys the editor may grant, plus current keys it may not touch. */
export function mergeKeys(registry: Registry, access: Access, editor: Grantee, current: string[], asked: unknown): string[] {
  const list = (Array.isArray(asked) ? asked : asked === undefined ? [] : [asked]).filter((k): k is string => typeof k === "string");
  if (list.some((k) => !registry.permissions.has(k))) throw new Invalid({ keys: "error.invalid" });
  if (list.some((k) => !access.can(editor, k) && !current.includes(k))) throw new Invalid({ keys: "acl.error.notHeld" });
  const untouchable = current.filter((k) => !access.can(editor, k));
  return [...new Set([...list.filter((k) => access.can(editor, k)), ...untouchable])].sort();
}
