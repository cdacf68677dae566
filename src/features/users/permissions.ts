/**
 * @module users/permissions
 * Permission keys of the users, groups and entities features, declared in the registry.
 */
import type { Registry } from "../../registry.ts";

export function declareDirectoryPermissions(registry: Registry) {
  const p = (key: string, category: Parameters<Registry["permission"]>[0]["category"], label: Parameters<Registry["permission"]>[0]["label"]) =>
    registry.permission({ key, category, label });
  return {
    usersView: p("users.view", "perm.category.users", "perm.users.view"),
    usersEdit: p("users.edit", "perm.category.users", "perm.users.edit"),
    usersDelete: p("users.delete", "perm.category.users", "perm.users.delete"),
    usersAcl: p("users.acl", "perm.category.users", "perm.users.acl"),
    groupsView: p("groups.view", "perm.category.groups", "perm.groups.view"),
    groupsEdit: p("groups.edit", "perm.category.groups", "perm.groups.edit"),
    groupsDelete: p("groups.delete", "perm.category.groups", "perm.groups.delete"),
    groupsAcl: p("groups.acl", "perm.category.groups", "perm.groups.acl"),
    entitiesView: p("entities.view", "perm.category.entities", "perm.entities.view"),
    entitiesEdit: p("entities.edit", "perm.category.entities", "perm.entities.edit"),
    entitiesDelete: p("entities.delete", "perm.category.entities", "perm.entities.delete"),
  };
}

export type DirectoryPermissions = ReturnType<typeof declareDirectoryPermissions>;
