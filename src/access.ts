/**
 * @module access
 * The rights check (DESIGN.md "The registry"): the super-administrator holds every key;
 * anyone else holds the union of the keys granted to it and to its groups; a key that no
 * one was granted is denied. Where grants come from is injected: the users-and-rights
 * feature supplies them from its tables.
 */
export interface Grantee {
  id: number;
  isSuper: boolean;
}

export type GrantsOf = (userId: number) => ReadonlySet<string>;

export interface Access {
  can(user: Grantee, key: string): boolean;
  setGrants(source: GrantsOf): void;
}

export function createAccess(grants: GrantsOf = () => new Set()): Access {
  let source = grants;
  return {
    can: (user, key) => user.isSuper || source(user.id).has(key),
    setGrants(next) {
      source = next;
    },
  };
}
