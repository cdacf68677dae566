/**
 * Dynamic group queries, table-driven: each query against a small fleet seeded with
 * inventory parts and agent state, the expected members by name; hostile and malformed
 * queries refused with their reason; membership re-evaluated on inventory and presence
 * changes with entered/left events; groups of groups in dependency order; cycles refused.
 */
import { describe, expect, test } from "bun:test";
import { createMachineGroupsService } from "../../src/features/machine-groups/service.ts";
import { compileQuery, parseQuery, QueryError } from "../../src/features/machine-groups/query.ts";
import { AppError } from "../../src/errors.ts";
import { testApp, type TestApp } from "../support/app.ts";

const DAY = 86_400_000;
const vkey = (v: string) => v.replace(/\d+/g, (d) => d.padStart(10, "0"));

interface Seed {
  name: string;
  entity?: number;
  os?: string;
  osName?: string;
  osVersion?: string;
  online?: boolean;
  agentVersion?: string;
  lastSeenDaysAgo?: number;
  inventoriedDaysAgo?: number;
  software?: [string, string][];
  ips?: string[];
  memoryMb?: number;
  manufacturer?: string;
  macs?: string[];
}

function seed(t: TestApp, s: Seed): number {
  const now = t.clock.now();
  const id = (t.db.query(`INSERT INTO machines (hostname, entity_id, os, os_name, os_version, online, agent_version, last_seen_at, inventoried_at, created_at, updated_at)
    VALUES ($h, $e, $os, $osn, $osv, $on, $av, $seen, $inv, $now, $now) RETURNING id`).get({
    h: s.name, e: s.entity ?? 1, os: s.os ?? "", osn: s.osName ?? "", osv: s.osVersion ?? "", on: s.online ? 1 : 0, av: s.agentVersion ?? "",
    seen: s.lastSeenDaysAgo === undefined ? null : now - s.lastSeenDaysAgo * DAY, inv: s.inventoriedDaysAgo === undefined ? null : now - s.inventoriedDaysAgo * DAY, now,
  }) as { id: number }).id;
  for (const [n, v] of s.software ?? []) t.db.query("INSERT INTO inv_software (machine_id, name, version, version_key) VALUES ($id, $n, $v, $k)").run({ id, n, v, k: vkey(v) });
  for (const ip of s.ips ?? []) t.db.query("INSERT INTO inv_networks (machine_id, description, ip) VALUES ($id, 'eth0', $ip)").run({ id, ip });
  if (s.memoryMb !== undefined) t.db.query("INSERT INTO inv_hardware (machine_id, memory_mb) VALUES ($id, $m)").run({ id, m: s.memoryMb });
  if (s.manufacturer !== undefined) t.db.query("INSERT INTO inv_bios (machine_id, manufacturer) VALUES ($id, $m)").run({ id, m: s.manufacturer });
  for (const mac of s.macs ?? []) t.db.query("INSERT INTO machine_macs (mac, machine_id) VALUES ($mac, $id)").run({ mac, id });
  return id;
}

function fleet() {
  const t = testApp();
  const sub = (t.db.query("INSERT INTO entities (name, parent_id, created_at, updated_at) VALUES ('Lyon', 1, 0, 0) RETURNING id").get() as { id: number }).id;
  const subsub = (t.db.query("INSERT INTO entities (name, parent_id, created_at, updated_at) VALUES ('Lyon-2', $p, 0, 0) RETURNING id").get({ p: sub }) as { id: number }).id;
  t.db.query("INSERT INTO users (id, login, password_hash, is_super, created_at, updated_at) VALUES (1, 'root', 'x', 1, 0, 0)").run();
  const ids: Record<string, number> = {};
  const add = (s: Seed) => (ids[s.name] = seed(t, s));
  add({ name: "win-01", os: "windows", osName: "Microsoft Windows 11 Pro", osVersion: "10.0.22631", online: true, agentVersion: "1.10.0", lastSeenDaysAgo: 0, inventoriedDaysAgo: 1,
    software: [["Mozilla Firefox", "128.0.3"], ["7-Zip", "23.01"]], ips: ["192.168.10.21"], memoryMb: 16384, manufacturer: "Dell Inc.", macs: ["aa:bb:cc:00:00:01"] });
  add({ name: "win-02", os: "windows", osName: "Microsoft Windows 10 Pro", osVersion: "10.0.19045", online: false, agentVersion: "1.9.2", lastSeenDaysAgo: 20, inventoriedDaysAgo: 20,
    software: [["Mozilla Firefox", "115.12"], ["7-Zip", "9.20"]], ips: ["192.168.10.22"], memoryMb: 8192, manufacturer: "HP", entity: sub });
  add({ name: "lnx-01", os: "linux", osName: "Debian GNU/Linux 12", osVersion: "12", online: true, agentVersion: "1.10.0", lastSeenDaysAgo: 0, inventoriedDaysAgo: 2,
    software: [["firefox-esr", "128.5.0esr"]], ips: ["10.0.0.5"], memoryMb: 4096, entity: subsub });
  add({ name: "mac-01", os: "macos", osName: "macOS", osVersion: "14.5", online: false, agentVersion: "", software: [] });
  return { t, ids, sub, subsub, groups: createMachineGroupsService({ db: t.db, clock: t.clock, recorder: t.app.recorder, entities: { visibleIds: () => new Set([1, sub, subsub]) } as never }) };
}

const root = { id: 1, login: "root", isSuper: true };

describe("dynamic group queries (table-driven)", () => {
  const { t, groups, ids, sub } = fleet();
  const cases: [string, unknown, string[]][] = [
    ["os family", { all: [{ field: "os.family", op: "equals", value: "windows" }] }, ["win-01", "win-02"]],
    ["os name contains", { all: [{ field: "os.name", op: "contains", value: "windows 11" }] }, ["win-01"]],
    ["os name does not contain", { all: [{ field: "os.name", op: "notContains", value: "windows" }] }, ["lnx-01", "mac-01"]],
    ["os version >= (numeric, not text)", { all: [{ field: "os.version", op: ">=", value: "10.0.20000" }] }, ["win-01", "lnx-01", "mac-01"]],
    ["software installed, version >= 120", { all: [{ field: "software", op: "installed", name: "firefox", versionOp: ">=", version: "120" }] }, ["win-01", "lnx-01"]],
    ["software exact name", { all: [{ field: "software", op: "installed", name: "7-zip", match: "equals" }] }, ["win-01", "win-02"]],
    ["software version < 10 (9.20 < 23.01)", { all: [{ field: "software", op: "installed", name: "7-Zip", versionOp: "<", version: "10" }] }, ["win-02"]],
    ["software not installed", { all: [{ field: "software", op: "notInstalled", name: "firefox" }] }, ["mac-01"]],
    ["memory >= 8 GB", { all: [{ field: "hw.memoryMb", op: ">=", value: 8192 }] }, ["win-01", "win-02"]],
    ["manufacturer", { all: [{ field: "hw.manufacturer", op: "startsWith", value: "dell" }] }, ["win-01"]],
    ["ip in subnet", { all: [{ field: "net.ip", op: "inSubnet", value: "192.168.10.0/24" }] }, ["win-01", "win-02"]],
    ["mac", { all: [{ field: "net.mac", op: "equals", value: "aa:bb:cc:00:00:01" }] }, ["win-01"]],
    ["entity is", { all: [{ field: "entity", op: "is", value: sub }] }, ["win-02"]],
    ["entity under (sub-entities)", { all: [{ field: "entity", op: "isUnder", value: sub }] }, ["win-02", "lnx-01"]],
    ["online", { all: [{ field: "agent.online", op: "is", value: true }] }, ["win-01", "lnx-01"]],
    ["agent version < 1.10 (1.9.2 < 1.10.0)", { all: [{ field: "agent.version", op: "<", value: "1.10" }] }, ["win-02"]],
    ["agent seen more than 10 days ago", { all: [{ field: "agent.lastSeen", op: "olderThanDays", value: 10 }] }, ["win-02"]],
    ["never inventoried", { all: [{ field: "inventory.date", op: "never" }] }, ["mac-01"]],
    ["inventoried within 7 days", { all: [{ field: "inventory.date", op: "withinDays", value: 7 }] }, ["win-01", "lnx-01"]],
    ["any (OR)", { any: [{ field: "os.family", op: "equals", value: "linux" }, { field: "os.family", op: "equals", value: "macos" }] }, ["lnx-01", "mac-01"]],
    ["none (EXCEPT)", { all: [{ field: "os.family", op: "notEmpty" }, { none: [{ field: "os.family", op: "equals", value: "windows" }] }] }, ["lnx-01", "mac-01"]],
    ["hostile text stays a value", { all: [{ field: "hostname", op: "contains", value: "' OR 1=1 --" }] }, []],
    ["LIKE wildcards are literal", { all: [{ field: "hostname", op: "contains", value: "%" }] }, []],
  ];
  for (const [name, query, expected] of cases) {
    test(name, () => {
      const node = parseQuery(query);
      const { where, params } = compileQuery(node, { now: t.clock.now(), distinct: (sql) => (t.db.query(sql).all() as { v: string }[]).map((r) => r.v), addresses: () => ["192.168.10.21", "192.168.10.22", "10.0.0.5"] });
      const rows = t.db.query(`SELECT hostname FROM machines m WHERE ${where} ORDER BY hostname`).all(params) as { hostname: string }[];
      expect(rows.map((r) => r.hostname)).toEqual([...expected].sort());
      expect(groups.preview(root, query).count).toBe(expected.length);
    });
  }
  test("ids exist", () => expect(Object.keys(ids).length).toBe(4));
});

describe("bad queries are refused with a reason", () => {
  const deep = (n: number): unknown => (n === 0 ? { field: "hostname", op: "contains", value: "x" } : { all: [deep(n - 1)] });
  const cases: [string, unknown, string][] = [
    ["empty", { all: [] }, "mgroups.query.empty"],
    ["not an object", "[1,2]", "mgroups.query.shape"],
    ["bad JSON", "{", "mgroups.query.shape"],
    ["unknown field", { all: [{ field: "m.id; DROP TABLE machines", op: "equals", value: "x" }] }, "mgroups.query.field"],
    ["operator of another kind", { all: [{ field: "hostname", op: ">=", value: "x" }] }, "mgroups.query.op"],
    ["operator injection", { all: [{ field: "hw.memoryMb", op: "= 1 OR 1", value: 1 }] }, "mgroups.query.op"],
    ["missing value", { all: [{ field: "hostname", op: "contains" }] }, "mgroups.query.value"],
    ["number not a number", { all: [{ field: "hw.memoryMb", op: ">", value: "lots" }] }, "mgroups.query.value"],
    ["bad CIDR", { all: [{ field: "net.ip", op: "inSubnet", value: "300.1.1.0/24" }] }, "mgroups.query.value"],
    ["too long", { all: [{ field: "hostname", op: "contains", value: "x".repeat(201) }] }, "mgroups.query.text"],
    ["too deep", deep(8), "mgroups.query.depth"],
    ["too many rules", { any: Array.from({ length: 101 }, () => ({ field: "hostname", op: "contains", value: "x" })) }, "mgroups.query.size"],
    ["two block keys", { all: [], any: [] }, "mgroups.query.shape"],
    ["software without a name", { all: [{ field: "software", op: "installed" }] }, "mgroups.query.value"],
  ];
  for (const [name, query, key] of cases) {
    test(name, () => {
      let err: unknown;
      try {
        parseQuery(query);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(QueryError);
      expect((err as QueryError).key).toBe(key as QueryError["key"]);
    });
  }
});

describe("membership follows changes", () => {
  test("inventory and presence changes move machines in and out, with events", async () => {
    const { t, groups, ids } = fleet();
    const seen: string[] = [];
    groups.onMembership((evs) => seen.push(...evs.map((e) => `${e.change}:${e.machineId}`)));
    const online = groups.createDynamic(root, { name: "Online Windows", query: { all: [{ field: "os.family", op: "equals", value: "windows" }, { field: "agent.online", op: "is", value: true }] } }, "127.0.0.1");
    expect(groups.members(online)).toEqual([ids["win-01"]!]);
    expect(seen).toEqual([`entered:${ids["win-01"]}`]);

    t.db.query("UPDATE machines SET online = 1 WHERE id = $id").run({ id: ids["win-02"]! });
    groups.evaluateMachine(ids["win-02"]!);
    expect(groups.members(online)).toEqual([ids["win-01"]!, ids["win-02"]!]);
    expect(groups.groupsOf(ids["win-02"]!)).toEqual([online]);

    t.db.query("UPDATE machines SET online = 0 WHERE id = $id").run({ id: ids["win-01"]! });
    groups.evaluateMachine(ids["win-01"]!);
    expect(groups.members(online)).toEqual([ids["win-02"]!]);
    expect(seen.at(-1)).toBe(`left:${ids["win-01"]}`);
    const stored = t.db.query("SELECT change, machine_id FROM machine_group_events WHERE group_id = $g ORDER BY id").all({ g: online });
    expect(stored).toEqual([{ change: "entered", machine_id: ids["win-01"]! }, { change: "entered", machine_id: ids["win-02"]! }, { change: "left", machine_id: ids["win-01"]! }]);

    // Old events go (membership stays); a deleted machine then leaves its groups.
    await t.clock.advance(200 * DAY);
    expect(groups.purgeEvents(180)).toBe(2); // the current member's "entered" stays
    expect(groups.members(online)).toEqual([ids["win-02"]!]);
    t.db.query("DELETE FROM machines WHERE id = $id").run({ id: ids["win-02"]! });
    groups.evaluateMachine(ids["win-02"]!);
    expect(seen.at(-1)).toBe(`left:${ids["win-02"]}`);
    expect(groups.members(online)).toEqual([]);
  });

  test("groups of groups: in / not in, evaluated in order; cycles and dangling references refused", () => {
    const { t, groups, ids } = fleet();
    const windows = groups.createDynamic(root, { name: "Windows", query: { all: [{ field: "os.family", op: "equals", value: "windows" }] } }, "ip");
    const pilot = groups.createStatic(root, { name: "Pilot", machineIds: [ids["win-01"]!, ids["lnx-01"]!] }, "ip");
    const both = groups.createDynamic(root, { name: "Windows pilot", query: { all: [{ field: "group", op: "in", value: windows }, { field: "group", op: "in", value: pilot }] } }, "ip");
    const rest = groups.createDynamic(root, { name: "Windows not pilot", query: { all: [{ field: "group", op: "in", value: windows }, { field: "group", op: "notIn", value: pilot }] } }, "ip");
    expect(groups.members(both)).toEqual([ids["win-01"]!]);
    expect(groups.members(rest)).toEqual([ids["win-02"]!]);
    // A static group's change re-evaluates the groups that name it.
    groups.changeMembers(root, pilot, [ids["win-02"]!], [], "ip");
    expect(groups.members(both)).toEqual([ids["win-01"]!, ids["win-02"]!]);
    expect(groups.members(rest)).toEqual([]);
    // A machine change flows through the chain.
    t.db.query("UPDATE machines SET os = 'linux' WHERE id = $id").run({ id: ids["win-01"]! });
    groups.evaluateMachine(ids["win-01"]!);
    expect(groups.members(both)).toEqual([ids["win-02"]!]);

    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as AppError).fields?.name ?? (e as AppError).messageKey;
      }
      return null;
    };
    expect(code(() => groups.update(root, windows, { name: "Windows", query: { all: [{ field: "group", op: "in", value: both }] } }, "ip"))).toBe("mgroups.query.cycle");
    expect(code(() => groups.update(root, windows, { name: "Windows", query: { all: [{ field: "group", op: "in", value: windows }] } }, "ip"))).toBe("mgroups.query.cycle");
    expect(code(() => groups.createDynamic(root, { name: "Dangling", query: { all: [{ field: "group", op: "in", value: 999 }] } }, "ip"))).toBe("mgroups.query.group");
    expect(code(() => groups.remove(root, pilot, "ip"))).toBe("mgroups.error.inUse");
    expect(code(() => groups.createStatic(root, { name: "windows", machineIds: [] }, "ip"))).toBe("mgroups.error.nameTaken");
  });
});
