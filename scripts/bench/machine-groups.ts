/**
 * @module scripts/bench/machine-groups
 * Dynamic groups at fleet scale: 5,000 machines with 60 installed programs each (300,000
 * software rows), in a temporary file database, and 20 dynamic groups (OS, software with a
 * version comparison, memory, subnet, agent version, last seen, and groups of groups). Each
 * measure runs through the service — parsing, compiling, the membership diff and the
 * events — beside the peer: the same 20 compiled statements run bare on SQLite.
 *   - a full re-evaluation of every group (what saving a group or the 15-minute job costs);
 *   - a presence storm: every machine's change coalesced in one batch (the start of day);
 *   - one machine's change (an inventory arriving), against the 20 statements for one id.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase } from "../../src/db/index.ts";
import type { EntitiesService } from "../../src/features/entities/service.ts";
import { createRecorder } from "../../src/features/history/service.ts";
import { compileQuery, parseQuery } from "../../src/features/machine-groups/query.ts";
import { createMachineGroupsService } from "../../src/features/machine-groups/service.ts";
import { timeMs, type Report } from "../bench.ts";

const MACHINES = 5_000;
const SOFTWARE = 60;
const NOW = Date.UTC(2026, 5, 1, 12);
const vkey = (v: string) => v.replace(/\d+/g, (d) => d.padStart(10, "0"));

export default async function machineGroups(report: Report): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "medulla-bench-mg-"));
  try {
    const db = openDatabase(join(dir, "bench.db"));
    const clock = new ManualClock(NOW);
    db.query("INSERT INTO users (id, login, password_hash, is_super, created_at, updated_at) VALUES (1, 'root', 'x', 1, 0, 0)").run();
    db.transaction(() => {
      const machine = db.query(`INSERT INTO machines (hostname, os, os_name, os_version, online, agent_version, last_seen_at, inventoried_at, created_at, updated_at)
        VALUES ($h, $os, $osn, $osv, $on, $av, $seen, $seen, 0, 0) RETURNING id`);
      const sw = db.query("INSERT INTO inv_software (machine_id, name, version, version_key) VALUES ($id, $n, $v, $k)");
      const net = db.query("INSERT INTO inv_networks (machine_id, description, ip) VALUES ($id, 'eth0', $ip)");
      const hw = db.query("INSERT INTO inv_hardware (machine_id, memory_mb) VALUES ($id, $m)");
      for (let i = 0; i < MACHINES; i++) {
        const os = ["windows", "linux", "macos"][i % 3]!;
        const id = (machine.get({ h: `pc-${i}`, os, osn: os, osv: `${10 + (i % 5)}.${i % 7}`, on: i % 2, av: `1.${i % 12}.${i % 4}`, seen: NOW - (i % 30) * 86_400_000 }) as { id: number }).id;
        for (let s = 0; s < SOFTWARE; s++) {
          const v = `${(i + s) % 130}.${s % 10}.${i % 3}`;
          sw.run({ id, n: `Program ${s}`, v, k: vkey(v) });
        }
        net.run({ id, ip: `10.${(i >> 8) & 255}.${i & 255}.10` });
        hw.run({ id, m: 2048 << (i % 4) });
      }
    })();
    const entities = { visibleIds: () => new Set([1]) } as unknown as EntitiesService;
    const groups = createMachineGroupsService({ db, clock, recorder: createRecorder(db, () => clock.now()), entities });
    const viewer = { id: 1, login: "root", isSuper: true };
    const rule = (field: string, op: string, value: unknown) => ({ field, op, value });
    const queries: unknown[] = [
      { all: [rule("os.family", "equals", "windows")] },
      { all: [rule("os.family", "equals", "linux"), rule("agent.online", "is", true)] },
      { all: [{ field: "software", op: "installed", name: "Program 7", match: "equals", versionOp: "<", version: "64" }] },
      { all: [{ field: "software", op: "notInstalled", name: "Program 70" }] },
      { all: [{ field: "software", op: "installed", name: "program 1", versionOp: ">=", version: "100.5" }] },
      { all: [rule("hw.memoryMb", ">=", 8192)] },
      { all: [rule("net.ip", "inSubnet", "10.3.0.0/16")] },
      { all: [rule("agent.version", "<", "1.10")] },
      { all: [rule("agent.lastSeen", "olderThanDays", 10)] },
      { all: [rule("os.version", ">=", "12.3")] },
      { any: [rule("hostname", "startsWith", "pc-1"), rule("hostname", "contains", "99")] },
      { all: [rule("inventory.date", "withinDays", 7), rule("os.family", "notEquals", "macos")] },
    ];
    const ids: number[] = [];
    for (const [i, query] of queries.entries()) ids.push(groups.createDynamic(viewer, { name: `g${i}`, query }, "bench"));
    for (let i = 0; ids.length < 20; i++) {
      const query = { [["all", "any", "none"][i % 3]!]: [rule("group", "in", ids[i]!), rule("group", i % 2 ? "in" : "notIn", ids[i + 1]!)] };
      ids.push(groups.createDynamic(viewer, { name: `combo${i}`, query }, "bench"));
    }
    const rows = db.query("SELECT id, query FROM machine_groups ORDER BY id").all() as { id: number; query: string }[];
    const resolver = { now: NOW, distinct: (sql: string) => (db.query(sql).all() as { v: string }[]).map((r) => r.v), addresses: () => (db.query("SELECT DISTINCT ip AS v FROM inv_networks").all() as { v: string }[]).map((r) => r.v) };
    const compiled = rows.map((r) => compileQuery(parseQuery(r.query), resolver));
    const bare = (extra: string, params: Record<string, number | string>) => {
      for (const c of compiled) db.query(`SELECT m.id FROM machines m WHERE ${c.where} ${extra}`).all({ ...c.params, ...params });
    };

    const full = await timeMs(5, () => groups.evaluateAll());
    const fullBare = await timeMs(5, () => bare("", {}));
    report({ name: "groups-full-evaluation-20-groups-5000-machines-lower-better", value: full, unit: "ms", peer: { name: "the 20 statements bare", value: fullBare } });

    const everyone = Array.from({ length: MACHINES }, (_, i) => i + 1);
    const storm = await timeMs(5, () => groups.evaluateMachines(everyone));
    report({ name: "groups-presence-storm-5000-machines-lower-better", value: storm, unit: "ms", peer: { name: "the 20 statements bare", value: fullBare } });

    const one = await timeMs(50, () => groups.evaluateMachine(MACHINES / 2));
    const oneBare = await timeMs(50, () => bare("AND m.id = $one", { one: MACHINES / 2 }));
    report({ name: "groups-one-machine-changed-lower-better", value: one, unit: "ms", peer: { name: "the 20 statements for one id, bare", value: oneBare } });
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
