/**
 * @module actions/wol
 * Wake-on-LAN (SPEC C8). For each machine to wake: its non-virtual MACs, and its subnet
 * from the inventory's network interfaces (address + netmask of the card with that MAC).
 * Targets are grouped by subnet; for each subnet exactly one sender is chosen:
 *   1. the appliance itself, when one of its own interfaces is on that subnet;
 *   2. otherwise one online agent on that subnet (same network, and the same gateway when
 *      both are known), told over the channel to send the packets (`wakeonlan`);
 *   3. otherwise the appliance sends to the subnet's directed broadcast anyway (it works
 *      when routers forward directed broadcasts), and the wake says so.
 * A machine with no known subnet is woken by the appliance on each of its own subnets.
 * Every packet set sent is a `wakes` row (machine, MAC, broadcast, via, who, when);
 * `recentWake(mac, withinMs)` lets network boot tell a Wake-on-LAN boot; a machine that
 * comes online marks its recent wakes as answered.
 */
import type { Database } from "bun:sqlite";
import { networkInterfaces } from "node:os";
import type { Clock } from "../../clock.ts";
import { Invalid } from "../../errors.ts";
import { normalizeMac, sendMagicPackets, subnetOf } from "../../net/wol.ts";
import type { AgentChannel } from "../../protocol/channel.ts";
import { request } from "../../protocol/envelope.ts";
import type { Viewer } from "../entities/service.ts";
import type { Recorder } from "../history/service.ts";
import type { MachinesService } from "../machines/service.ts";

export interface LocalInterface {
  address: string;
  netmask: string;
}

export interface WakeRow {
  id: number;
  machine_id: number | null;
  mac: string;
  broadcast: string;
  sent_at: number;
  via: string;
  user_login: string;
  error: string;
  woke_at: number | null;
}

export interface WakeTarget {
  machineId: number;
  hostname: string;
  macs: string[];
  /** Subnet and broadcast, when the inventory tells them. */
  subnet: { cidr: string; broadcast: string; gateway: string } | null;
}

export type Sender = { kind: "appliance"; broadcast: string } | { kind: "agent"; machineId: number; jid: string; hostname: string; broadcast: string };

export interface WakeOutcome {
  machineId: number;
  hostname: string;
  via: string;
  broadcast: string;
  sent: number;
  error: string;
}

/** How long after a wake a machine coming online counts as its answer. */
export const ANSWER_WINDOW_MS = 10 * 60_000;

function ownInterfaces(): LocalInterface[] {
  const out: LocalInterface[] = [];
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (i.family === "IPv4" && !i.internal) out.push({ address: i.address, netmask: i.netmask });
  return out;
}

export function createWol(deps: {
  db: Database; clock: Clock; channel: AgentChannel; machines: MachinesService; recorder: Recorder;
  localInterfaces?: () => LocalInterface[];
  send?: typeof sendMagicPackets;
  agentTimeoutMs?: number;
}) {
  const { db, clock, channel, machines, recorder } = deps;
  const local = deps.localInterfaces ?? ownInterfaces;
  const send = deps.send ?? sendMagicPackets;
  const insert = db.query(`INSERT INTO wakes (machine_id, mac, broadcast, sent_at, via, user_login, error) VALUES ($machine, $mac, $broadcast, $at, $via, $user, $error)`);

  /** Each interface of the inventory: (machine, mac, subnet, gateway). */
  const interfaces = (machineId: number) =>
    db.query(`SELECT mac, ip, netmask, gateway FROM inv_networks WHERE machine_id = ? AND is_virtual = 0 AND ip <> '' AND netmask <> ''`).all(machineId) as { mac: string; ip: string; netmask: string; gateway: string }[];

  function targetOf(machineId: number, hostname: string): WakeTarget {
    const macs = machines.macs(machineId).filter((m) => m.is_virtual === 0).map((m) => normalizeMac(m.mac)).filter((m): m is string => !!m);
    let subnet: WakeTarget["subnet"] = null;
    for (const i of interfaces(machineId)) {
      const s = subnetOf(i.ip, i.netmask);
      const mac = normalizeMac(i.mac);
      if (!s) continue;
      if (mac && !macs.includes(mac)) macs.push(mac);
      if (!subnet || (mac && macs[0] === mac)) subnet = { ...s, gateway: i.gateway };
    }
    return { machineId, hostname, macs, subnet };
  }

  /** The one sender for a subnet (module header). */
  function senderFor(subnet: { cidr: string; broadcast: string; gateway: string }, exclude: Set<number>): Sender {
    for (const i of local()) if (subnetOf(i.address, i.netmask)?.cidr === subnet.cidr) return { kind: "appliance", broadcast: subnet.broadcast };
    const candidates = db
      .query(`SELECT m.id, m.jid, m.hostname, n.ip, n.netmask, n.gateway FROM machines m JOIN inv_networks n ON n.machine_id = m.id
              WHERE m.online = 1 AND m.banned = 0 AND m.jid IS NOT NULL AND n.is_virtual = 0 AND n.ip <> '' ORDER BY m.last_seen_at DESC, m.id`)
      .all() as { id: number; jid: string; hostname: string; ip: string; netmask: string; gateway: string }[];
    let fallback: Sender | null = null;
    for (const c of candidates) {
      if (exclude.has(c.id) || subnetOf(c.ip, c.netmask)?.cidr !== subnet.cidr || !channel.isOnline(c.jid)) continue;
      const s: Sender = { kind: "agent", machineId: c.id, jid: c.jid, hostname: c.hostname, broadcast: subnet.broadcast };
      if (!subnet.gateway || !c.gateway || c.gateway === subnet.gateway) return s;
      fallback ??= s;
    }
    return fallback ?? { kind: "appliance", broadcast: subnet.broadcast };
  }

  /** The plan: one sender per subnet, with the MACs it sends to. */
  function plan(targets: WakeTarget[]): { sender: Sender; targets: WakeTarget[] }[] {
    const bySubnet = new Map<string, { sender: Sender; targets: WakeTarget[] }>();
    const exclude = new Set(targets.map((t) => t.machineId));
    for (const t of targets) {
      if (!t.macs.length) continue;
      const keys = t.subnet ? [t.subnet] : local().map((i) => subnetOf(i.address, i.netmask)).filter((s) => s !== null).map((s) => ({ ...s!, gateway: "" }));
      if (!keys.length) keys.push({ cidr: "0.0.0.0/0", broadcast: "255.255.255.255", gateway: "" });
      for (const k of keys) {
        let g = bySubnet.get(k.cidr);
        if (!g) bySubnet.set(k.cidr, (g = { sender: k.cidr === "0.0.0.0/0" ? { kind: "appliance", broadcast: k.broadcast } : senderFor(k, exclude), targets: [] }));
        g.targets.push(t);
      }
    }
    return [...bySubnet.values()];
  }

  async function execute(targets: WakeTarget[], userLogin: string): Promise<WakeOutcome[]> {
    const outcomes: WakeOutcome[] = [];
    const now = clock.now();
    for (const group of plan(targets)) {
      const macs = [...new Set(group.targets.flatMap((t) => t.macs))];
      let result: { sent: number; errors: string[] };
      let via: string;
      if (group.sender.kind === "appliance") {
        via = "appliance";
        result = await send(macs, group.sender.broadcast);
      } else {
        via = `agent:${group.sender.machineId}`;
        try {
          const answer = await channel.request(group.sender.jid, request("wakeonlan", { macs, broadcast: group.sender.broadcast }), deps.agentTimeoutMs ?? 15_000);
          result = answer.ret === 0 ? (answer.data as { sent: number; errors: string[] }) : { sent: 0, errors: [String(answer.data.detail ?? answer.data.error ?? `error ${answer.ret}`)] };
        } catch (e) {
          result = { sent: 0, errors: [`${group.sender.hostname} did not answer: ${(e as Error).message}`] };
        }
      }
      const error = result.errors.join("; ").slice(0, 500);
      for (const t of group.targets) {
        for (const mac of t.macs) insert.run({ machine: t.machineId, mac, broadcast: group.sender.broadcast, at: now, via, user: userLogin, error });
        outcomes.push({ machineId: t.machineId, hostname: t.hostname, via: group.sender.kind === "agent" ? group.sender.hostname : "appliance", broadcast: group.sender.broadcast, sent: result.sent, error });
      }
    }
    return outcomes;
  }

  // A machine that comes online answers its recent wakes.
  machines.onChange((m, change) => {
    if (change !== "online") return;
    const at = clock.now();
    db.query("UPDATE wakes SET woke_at = $at WHERE machine_id = $id AND woke_at IS NULL AND sent_at >= $since").run({ at, id: m.id, since: at - ANSWER_WINDOW_MS });
  });

  return {
    targetOf,
    plan,
    /** Wakes the machines (visible to the viewer); one history entry per machine. */
    async wake(viewer: Viewer | null, machineIds: number[], ip: string, who = ""): Promise<WakeOutcome[]> {
      const ids = [...new Set(machineIds.filter((id) => Number.isSafeInteger(id) && id > 0))];
      if (!ids.length) throw new Invalid({ machines: "wol.error.noMachines" }, "wol.error.noMachines");
      const rows = ids.map((id) => (viewer ? machines.get(viewer, id) : machines.getById(id))).filter((m) => m !== null && m !== undefined);
      const targets = rows.map((m) => targetOf(m!.id, m!.hostname));
      const noMac = targets.filter((t) => !t.macs.length);
      const outcomes = await execute(targets.filter((t) => t.macs.length), viewer?.login ?? who);
      for (const t of noMac) outcomes.push({ machineId: t.machineId, hostname: t.hostname, via: "", broadcast: "", sent: 0, error: "no MAC address known for this machine" });
      for (const o of outcomes) {
        recorder.record({
          module: "machines", action: o.error && !o.sent ? "wol.history.failed" : "wol.history.sent", params: { name: o.hostname, via: o.via || "—", error: o.error },
          criterion: "machine", userId: viewer?.id ?? null, userLogin: viewer?.login ?? "", who: viewer ? undefined : who, sourceIp: ip, target: { type: "machine", id: o.machineId, name: o.hostname },
        });
      }
      return outcomes;
    },
    /** Wakes raw MACs (no machine record), e.g. from the API; every MAC must be valid. */
    async wakeMacs(viewer: Viewer, macs: string[], broadcast: string, ip: string): Promise<{ sent: number; errors: string[] }> {
      const norm = macs.map(normalizeMac);
      if (!norm.length || norm.some((m) => !m)) throw new Invalid({ macs: "wol.error.badMac" }, "wol.error.badMac");
      const r = await send(norm as string[], broadcast);
      for (const mac of norm as string[]) insert.run({ machine: null, mac, broadcast, at: clock.now(), via: "appliance", user: viewer.login, error: r.errors.join("; ").slice(0, 500) });
      recorder.record({ module: "machines", action: "wol.history.sentMacs", params: { macs: (norm as string[]).join(", "), broadcast }, criterion: "machine", userId: viewer.id, userLogin: viewer.login, sourceIp: ip });
      return r;
    },
    /** The most recent wake of `mac` sent within `withinMs`, or null (network boot reads this). */
    /** Whether a magic packet can be made for the machine: the inventory knows a MAC of it. */
    wakeable(machineId: number): boolean {
      return targetOf(machineId, "").macs.length > 0;
    },
    recentWake(mac: string, withinMs: number): WakeRow | null {
      const norm = normalizeMac(mac);
      if (!norm) return null;
      return db.query("SELECT * FROM wakes WHERE mac = ? AND sent_at >= ? ORDER BY sent_at DESC, id DESC LIMIT 1").get(norm, clock.now() - withinMs) as WakeRow | null;
    },
    /** Each machine's latest wake. */
    lastWakes(machineIds: number[]): Map<number, WakeRow> {
      const out = new Map<number, WakeRow>();
      if (!machineIds.length) return out;
      const rows = db.query(`SELECT w.* FROM wakes w JOIN (SELECT machine_id, MAX(id) AS id FROM wakes WHERE machine_id IN (SELECT value FROM json_each(?)) GROUP BY machine_id) l ON l.id = w.id`).all(JSON.stringify(machineIds)) as WakeRow[];
      for (const r of rows) out.set(r.machine_id!, r);
      return out;
    },
  };
}

export type Wol = ReturnType<typeof createWol>;
