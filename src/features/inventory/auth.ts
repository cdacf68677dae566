/**
 * @module inventory/auth
 * Who may post an inventory (DESIGN.md "Inventory"): one of our agents with its own
 * account (HTTP basic auth with its JID, or its local part, and its XMPP password, checked
 * against the relay's stored SCRAM keys: PBKDF2 with the stored salt and iterations →
 * ClientKey → StoredKey, compared in constant time); anyone with the inventory key as the
 * basic-auth password; or anyone without credentials from an allowed network. Credentials
 * that are sent must be right, even from an allowed network. A verified agent password is
 * remembered a few minutes (keyed by a hash, and only while the account's keys are the
 * same) so that an agent's posts do not cost a PBKDF2 each. Refusals carry a reason for
 * the agent's log and are logged here.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import type { StoredAccount } from "../../net/xmpp/sasl.ts";
import { verifyPassword } from "../../net/xmpp/scram.ts";
import type { MachinesService } from "../machines/service.ts";
import type { InventorySettingsService } from "./settings.ts";

/** What the import needs of the relay's account store. */
export interface AgentAccountStore {
  get(username: string): { kind: string; machineId: number | null; isDisabled: boolean } | null;
  credentials(username: string): StoredAccount | null;
}

export type Poster = { kind: "agent"; machineId: number; username: string; jid: string } | { kind: "key" } | { kind: "network" };

/** A refused post: 401 (who are you?) or 403 (known, but not allowed). */
export class PostRefused extends Error {
  constructor(
    readonly status: 401 | 403,
    readonly reason: string,
  ) {
    super(reason);
    this.name = "PostRefused";
  }
}

const AGENT_CACHE_MS = 5 * 60_000;

export function basicCredentials(header: string | null): { user: string; password: string } | null {
  const m = /^basic\s+([A-Za-z0-9+/=]{1,2048})\s*$/i.exec(header ?? "");
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function createInventoryAuth(deps: { accounts: AgentAccountStore; machines: MachinesService; settings: InventorySettingsService; clock: Clock; log: Logger }) {
  const secret = randomBytes(32);
  const remembered = new Map<string, { digest: Buffer; storedKey: Buffer; until: number }>();
  const digestOf = (password: string) => createHash("sha256").update(secret).update(password).digest();

  const refuse = (status: 401 | 403, reason: string, ip: string): never => {
    deps.log.warn({ ip, status, reason }, "inventory post refused");
    throw new PostRefused(status, reason);
  };

  /** The agent behind `user`/`password`, or null when `user` is no agent account. Throws on a wrong password or a ban. */
  function agent(user: string, password: string, ip: string): Poster | null {
    const username = user.split("@")[0]!.normalize("NFC").toLowerCase();
    const account = username ? deps.accounts.get(username) : null;
    const stored = account?.kind === "agent" ? deps.accounts.credentials(username) : null;
    if (!account || !stored || account.kind !== "agent") return null;
    const storedKey = Buffer.from(stored.sha256.storedKey);
    const digest = digestOf(password);
    const hit = remembered.get(username);
    const isRemembered = hit !== undefined && hit.until > deps.clock.now() && timingSafeEqual(hit.digest, digest) && hit.storedKey.equals(storedKey);
    if (!isRemembered) {
      if (!verifyPassword("sha256", password, { salt: stored.salt, iterations: stored.iterations, keys: stored.sha256 })) {
        remembered.delete(username);
        return refuse(401, `wrong password for agent ${username}`, ip);
      }
      if (remembered.size > 10_000) remembered.clear();
      remembered.set(username, { digest, storedKey, until: deps.clock.now() + AGENT_CACHE_MS });
    }
    const machine = account.machineId !== null ? deps.machines.getById(account.machineId) : null;
    if (!machine) return refuse(401, `agent ${username} has no machine (enroll it again)`, ip);
    if (account.isDisabled || stored.isDisabled || machine.banned) return refuse(403, `machine ${machine.hostname} is banned`, ip);
    return { kind: "agent", machineId: machine.id, username, jid: machine.jid ?? username };
  }

  return {
    /** `/inventory`: an agent, the inventory key, or an allowed network. */
    async poster(headers: Headers, ip: string): Promise<Poster> {
      if (headers.has("origin") || headers.has("sec-fetch-site")) return refuse(403, "browsers may not post inventories", ip);
      const auth = headers.get("authorization");
      if (!auth) {
        if (deps.settings.isAllowedNetwork(ip)) return { kind: "network" };
        return refuse(401, `credentials required: ${ip} is not in the networks allowed to post without them; use an agent's account or the inventory key (HTTP basic auth)`, ip);
      }
      const creds = basicCredentials(auth);
      if (!creds) return refuse(401, "only HTTP basic authentication is accepted", ip);
      const asAgent = agent(creds.user, creds.password, ip);
      if (asAgent) return asAgent;
      if (!deps.settings.current().hasKey) return refuse(401, "no inventory key is set on the server", ip);
      if (!(await deps.settings.verifyKey(creds.password))) return refuse(401, "wrong inventory key", ip);
      return { kind: "key" };
    },

    /** `/api/v1/agents/inventory`: our agents only. */
    agentOnly(headers: Headers, ip: string): Poster & { kind: "agent" } {
      const creds = basicCredentials(headers.get("authorization"));
      if (!creds) return refuse(401, "an agent's credentials are required (HTTP basic auth with its JID and password)", ip);
      const found = agent(creds.user, creds.password, ip);
      if (!found || found.kind !== "agent") return refuse(401, `${creds.user.slice(0, 64)} is not an agent account`, ip);
      return found;
    },
  };
}

export type InventoryAuth = ReturnType<typeof createInventoryAuth>;
