/**
 * @module machines/enrollment
 * Enrollment (DESIGN.md "Enrollment"): an administrator creates a token (entity, expiry,
 * use count); an agent presents it once with its identity and receives its XMPP account.
 * The machine is found or created by the merge rule, so a reimaged machine keeps its
 * record; its account is replaced (new password) and any old connection is cut. Tokens are
 * stored as hashes; the clear token is shown once.
 */
import type { Database } from "bun:sqlite";
import type { Clock } from "../../clock.ts";
import { Forbidden, Invalid, NotFound, Unauthorized } from "../../errors.ts";
import type { AgentChannel } from "../../protocol/channel.ts";
import { randomToken, sha256 } from "../auth/service.ts";
import type { EntitiesService, Viewer } from "../entities/service.ts";
import type { Recorder } from "../history/service.ts";
import { installCommand, listAgents, type AgentFile } from "./downloads.ts";
import type { MachinesService } from "./service.ts";

/** What enrollment needs of the relay's account store. */
export interface AgentAccounts {
  create(username: string, password: string, machineId: number): void | Promise<void>;
  remove(username: string): void;
  setDisabled(username: string, disabled: boolean): void;
}

export interface EnrollmentTokenRow {
  id: number;
  name: string;
  entity_id: number;
  expires_at: number;
  max_uses: number | null;
  uses: number;
  created_at: number;
  revoked_at: number | null;
  created_by_login: string | null;
}

export interface EnrollRequest {
  token: string;
  hostname: string;
  os: string;
  arch: string;
  uuid?: string;
  serial?: string;
  manufacturer?: string;
  macs?: string[];
}

export interface Endpoint {
  domain: string;
  xmppHost: string;
  xmppPort: number;
  caFingerprint: string;
  publicUrl: string;
}

export function tokenState(t: EnrollmentTokenRow, now: number): "active" | "expired" | "used" | "revoked" {
  if (t.revoked_at) return "revoked";
  if (t.expires_at <= now) return "expired";
  if (t.max_uses !== null && t.uses >= t.max_uses) return "used";
  return "active";
}

export function createEnrollmentService(deps: {
  db: Database;
  clock: Clock;
  recorder: Recorder;
  entities: EntitiesService;
  machines: MachinesService;
  accounts: AgentAccounts;
  channel: AgentChannel;
  endpoint: () => Endpoint;
}) {
  const q = {
    insert: deps.db.query(
      `INSERT INTO enrollment_tokens (token_hash, name, entity_id, expires_at, max_uses, created_by, created_at)
       VALUES ($hash, $name, $entityId, $expiresAt, $maxUses, $createdBy, $now) RETURNING id`,
    ),
    list: deps.db.query(
      `SELECT t.id, t.name, t.entity_id, t.expires_at, t.max_uses, t.uses, t.created_at, t.revoked_at, u.login AS created_by_login
       FROM enrollment_tokens t LEFT JOIN users u ON u.id = t.created_by ORDER BY t.created_at DESC, t.id DESC LIMIT 200`,
    ),
    find: deps.db.query("SELECT t.*, NULL AS created_by_login FROM enrollment_tokens t WHERE id = $id"),
    byHash: deps.db.query("SELECT t.*, NULL AS created_by_login FROM enrollment_tokens t WHERE token_hash = $hash"),
    use: deps.db.query("UPDATE enrollment_tokens SET uses = uses + 1 WHERE id = $id"),
    revoke: deps.db.query("UPDATE enrollment_tokens SET revoked_at = $now WHERE id = $id AND revoked_at IS NULL"),
  };
  const now = () => deps.clock.now();

  return {
    create(viewer: Viewer, input: { name?: unknown; entityId?: unknown; validDays?: unknown; maxUses?: unknown }, ip: string) {
      const name = typeof input.name === "string" ? input.name.trim().slice(0, 101) : "";
      const entityId = input.entityId === undefined || input.entityId === "" || input.entityId === null ? 1 : Number(input.entityId);
      const days = input.validDays === undefined || input.validDays === "" || input.validDays === null ? 7 : Number(input.validDays);
      const maxUses = input.maxUses === undefined || input.maxUses === "" || input.maxUses === null ? null : Number(input.maxUses);
      const fields: Record<string, "error.field.tooLong" | "enroll.error.entity" | "enroll.error.days" | "enroll.error.uses"> = {};
      if (name.length > 100) fields.name = "error.field.tooLong";
      if (!Number.isInteger(entityId) || !deps.entities.visibleIds(viewer).has(entityId)) fields.entityId = "enroll.error.entity";
      if (!Number.isFinite(days) || days <= 0 || days > 365) fields.validDays = "enroll.error.days";
      if (maxUses !== null && (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > 100_000)) fields.maxUses = "enroll.error.uses";
      if (Object.keys(fields).length) throw new Invalid(fields);
      const token = randomToken(24);
      const expiresAt = now() + Math.round(days * 86_400_000);
      const id = deps.db.transaction(() => {
        const id = (q.insert.get({ hash: sha256(token), name, entityId, expiresAt, maxUses, createdBy: viewer.id, now: now() }) as { id: number }).id;
        deps.recorder.record({ module: "machines", action: "enroll.history.created", params: { name: name || `#${id}` }, criterion: "machine", userId: viewer.id, userLogin: viewer.login, sourceIp: ip, target: { type: "enrollment-token", id, name } });
        return id;
      })();
      const e = deps.endpoint();
      return { id, token, expiresAt, caFingerprint: e.caFingerprint, commands: commandsFor(e.publicUrl, token, e.caFingerprint) };
    },

    list(viewer: Viewer): EnrollmentTokenRow[] {
      const visible = deps.entities.visibleIds(viewer);
      return (q.list.all() as EnrollmentTokenRow[]).filter((t) => visible.has(t.entity_id));
    },

    revoke(viewer: Viewer, id: number, ip: string): void {
      const t = q.find.get({ id }) as EnrollmentTokenRow | null;
      if (!t) throw new NotFound();
      if (!deps.entities.visibleIds(viewer).has(t.entity_id)) throw new Forbidden();
      q.revoke.run({ id, now: now() });
      deps.recorder.record({ module: "machines", action: "enroll.history.revoked", params: { name: t.name || `#${id}` }, criterion: "machine", userId: viewer.id, userLogin: viewer.login, sourceIp: ip, target: { type: "enrollment-token", id, name: t.name } });
    },

    /** An agent enrolls: token checked and counted, machine found or created, account issued. */
    async enroll(req: EnrollRequest, ip: string) {
      const hash = sha256(req.token ?? "");
      const password = randomToken(24);
      const outcome = deps.db.transaction(() => {
        const t = q.byHash.get({ hash }) as EnrollmentTokenRow | null;
        if (!t || tokenState(t, now()) !== "active") return null;
        q.use.run({ id: t.id });
        const { machine, created } = deps.machines.upsert(
          { hostname: req.hostname, os: req.os, arch: req.arch, uuid: req.uuid, serial: req.serial, manufacturer: req.manufacturer, macs: req.macs },
          { entityId: t.entity_id, source: "enrollment", ip },
        );
        return { machine, created, tokenName: t.name };
      })();
      if (!outcome) {
        deps.recorder.record({ module: "machines", action: "enroll.history.refused", params: { name: req.hostname.slice(0, 100) }, criterion: "machine", who: req.hostname.slice(0, 100), sourceIp: ip });
        throw new Unauthorized("enroll.error.token");
      }
      const e = deps.endpoint();
      const username = `m${outcome.machine.id}`;
      const jid = `${username}@${e.domain}`;
      // A re-enrolled machine gets a fresh account: the old password stops working at once.
      deps.accounts.remove(username);
      await deps.accounts.create(username, password, outcome.machine.id);
      if (outcome.machine.banned) deps.accounts.setDisabled(username, true);
      deps.channel.disconnect(jid, "re-enrolled");
      deps.machines.bindJid(outcome.machine.id, jid);
      deps.recorder.record({ module: "machines", action: outcome.created ? "enroll.history.enrolled" : "enroll.history.reenrolled", params: { name: outcome.machine.hostname }, criterion: "newmachine", who: outcome.machine.hostname, sourceIp: ip, target: { type: "machine", id: outcome.machine.id, name: outcome.machine.hostname } });
      return { machineId: outcome.machine.id, jid, password, domain: e.domain, serverJid: deps.channel.serverJid, xmppHost: e.xmppHost, xmppPort: e.xmppPort, caFingerprint: e.caFingerprint };
    },
  };
}

/**
 * The ready-to-paste command per agent (`<os>-<arch>`) shown with a new token: download from
 * this appliance, check the SHA-256, enroll, install the service (see downloads.ts). Without
 * agent files beside the binary (a source checkout before `npm run build`), the enroll and
 * install steps alone, for binaries brought by hand.
 */
export function commandsFor(publicUrl: string, token: string, ca: string, agents: AgentFile[] = listAgents()): Record<string, string> {
  if (agents.length) return Object.fromEntries(agents.map((a) => [`${a.os}-${a.arch}`, installCommand(a, publicUrl, token, ca)]));
  const args = `enroll --server ${publicUrl} --token ${token} --ca ${ca}`;
  return {
    "linux-x64": `sudo ./medulla-agent-linux-x64 ${args} && sudo ./medulla-agent-linux-x64 install`,
    "windows-x64": `.\\medulla-agent-windows-x64.exe ${args}; .\\medulla-agent-windows-x64.exe install`,
    "darwin-arm64": `sudo ./medulla-agent-darwin-arm64 ${args} && sudo ./medulla-agent-darwin-arm64 install`,
  };
}

export type EnrollmentService = ReturnType<typeof createEnrollmentService>;
