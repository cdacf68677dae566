/**
 * @module inventory/settings
 * Who may post inventories without being one of our agents (DESIGN.md "Inventory"), kept
 * in the settings table: `inventory.key`, a key given as the password of HTTP basic auth
 * (stored as an Argon2id hash; a verified key is remembered briefly so that an agent's
 * PROLOG and inventory do not cost two hashes), `inventory.networks`, the networks that
 * may post with no credentials at all (CIDR list; unset: loopback and private ranges),
 * and `inventory.entity`, where machines first seen by an inventory go (Root unless set).
 */
import type { Database } from "bun:sqlite";
import { createHash, randomBytes } from "node:crypto";
import { BlockList, isIP } from "node:net";
import type { Clock } from "../../clock.ts";
import { Invalid, type FieldErrors } from "../../errors.ts";
import { hashPassword, verifyPassword } from "../auth/password.ts";
import type { EntitiesService, Viewer } from "../entities/service.ts";
import type { Recorder } from "../history/service.ts";

export const DEFAULT_NETWORKS = ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "fc00::/7", "fe80::/10"] as const;

const KEY = "inventory.key";
const NETWORKS = "inventory.networks";
const ENTITY = "inventory.entity";
const KEY_CACHE_MS = 10 * 60_000;

export interface InventorySettings {
  hasKey: boolean;
  networks: string[];
  entityId: number;
}

export interface SettingsUpdate {
  key?: string | null;
  generateKey?: boolean;
  networks?: string[];
  entityId?: number;
}

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (one host); null when it is neither. */
export function parseCidr(text: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } | null {
  const [address = "", prefixText, ...rest] = text.trim().split("/");
  const version = isIP(address);
  if (!version || rest.length) return null;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
  if (prefix < 0 || prefix > max) return null;
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

function blockListOf(networks: readonly string[]): BlockList {
  const list = new BlockList();
  for (const n of networks) {
    const c = parseCidr(n);
    if (c) list.addSubnet(c.address, c.prefix, c.family);
  }
  return list;
}

export function createInventorySettings(deps: { db: Database; clock: Clock; recorder: Recorder; entities: EntitiesService }) {
  const q = {
    get: deps.db.query("SELECT value FROM settings WHERE key = $key"),
    set: deps.db.query("INSERT INTO settings (key, value, updated_at) VALUES ($key, $value, $now) ON CONFLICT (key) DO UPDATE SET value = $value, updated_at = $now"),
    remove: deps.db.query("DELETE FROM settings WHERE key = $key"),
  };
  const read = (key: string) => (q.get.get({ key }) as { value: string } | null)?.value ?? null;
  let allowed: { list: BlockList; networks: string[] } | null = null;
  // sha256(secret + key) → when the verification stops counting. Cleared when the key changes.
  const verified = new Map<string, number>();
  const secret = randomBytes(32);

  function networks(): string[] {
    const raw = read(NETWORKS);
    if (raw === null) return [...DEFAULT_NETWORKS];
    try {
      const list = JSON.parse(raw) as unknown;
      return Array.isArray(list) ? list.filter((n): n is string => typeof n === "string") : [...DEFAULT_NETWORKS];
    } catch {
      return [...DEFAULT_NETWORKS];
    }
  }

  function current(): InventorySettings {
    const entity = Number(read(ENTITY) ?? 1);
    return { hasKey: read(KEY) !== null, networks: networks(), entityId: Number.isInteger(entity) && entity > 0 ? entity : 1 };
  }

  return {
    current,
    entityForNewMachines: () => current().entityId,

    /** Whether `ip` may post without credentials. */
    isAllowedNetwork(ip: string): boolean {
      allowed ??= { networks: networks(), list: blockListOf(networks()) };
      const version = isIP(ip);
      return version !== 0 && allowed.list.check(ip, version === 4 ? "ipv4" : "ipv6");
    },

    /** Whether `key` is the inventory key; false when none is set. */
    async verifyKey(key: string): Promise<boolean> {
      const hash = read(KEY);
      if (hash === null || key.length === 0 || key.length > 1024) return false;
      const id = createHash("sha256").update(secret).update(key).digest("hex");
      const until = verified.get(id);
      if (until !== undefined && until > deps.clock.now()) return true;
      if (!(await verifyPassword(key, hash))) return false;
      if (verified.size > 32) verified.clear();
      verified.set(id, deps.clock.now() + KEY_CACHE_MS);
      return true;
    },

    /** Changes what `update` names; returns the settings and, when one was generated, the new key (shown once). */
    async update(viewer: Viewer, input: SettingsUpdate, ip: string): Promise<InventorySettings & { key?: string }> {
      const fields: FieldErrors = {};
      if (typeof input.key === "string" && (input.key.length < 16 || input.key.length > 256)) fields.key = "inventory.settings.keyLength";
      const bad = (input.networks ?? []).find((n) => parseCidr(n) === null);
      if (bad !== undefined) fields.networks = "inventory.settings.badNetwork";
      if (input.networks && input.networks.length > 256) fields.networks = "inventory.settings.badNetwork";
      if (input.entityId !== undefined && !deps.entities.tree().some((e) => e.id === input.entityId)) fields.entityId = "inventory.settings.badEntity";
      if (Object.keys(fields).length) throw new Invalid(fields);
      const generated = input.generateKey ? randomBytes(24).toString("base64url") : undefined;
      const newKey = generated ?? input.key;
      const keyHash = typeof newKey === "string" ? await hashPassword(newKey) : null;
      const now = deps.clock.now();
      const changed: string[] = [];
      deps.db.transaction(() => {
        if (keyHash !== null) q.set.run({ key: KEY, value: keyHash, now });
        else if (input.key === null) q.remove.run({ key: KEY });
        if (keyHash !== null || input.key === null) changed.push("key");
        if (input.networks) {
          q.set.run({ key: NETWORKS, value: JSON.stringify(input.networks.map((n) => n.trim())), now });
          changed.push("networks");
        }
        if (input.entityId !== undefined) {
          q.set.run({ key: ENTITY, value: String(input.entityId), now });
          changed.push("entity");
        }
        if (changed.length) {
          deps.recorder.record({ module: "inventory", action: "inventory.history.settings", params: { what: changed.join(", ") }, criterion: "none", userId: viewer.id, userLogin: viewer.login, sourceIp: ip });
        }
      })();
      verified.clear();
      allowed = null;
      return { ...current(), ...(generated && { key: generated }) };
    },
  };
}

export type InventorySettingsService = ReturnType<typeof createInventorySettings>;
