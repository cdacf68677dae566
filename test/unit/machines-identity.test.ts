import { describe, expect, test } from "bun:test";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase } from "../../src/db/index.ts";
import { createEntitiesService } from "../../src/features/entities/service.ts";
import { createRecorder } from "../../src/features/history/service.ts";
import { isVirtualMac, normalizeMac, normalizeUuid, usableSerial } from "../../src/features/machines/identity.ts";
import { createMachinesService } from "../../src/features/machines/service.ts";

function service() {
  const db = openDatabase(":memory:");
  const clock = new ManualClock();
  const recorder = createRecorder(db, () => clock.now());
  const entities = createEntitiesService({ db, clock, recorder });
  return { db, machines: createMachinesService({ db, clock, recorder, entities }) };
}

describe("identity parts", () => {
  test("MACs are normalised; virtual ones are recognised", () => {
    expect(normalizeMac("00-1A-2b-3C-4d-5E")).toBe("00:1a:2b:3c:4d:5e");
    expect(normalizeMac("001a.2b3c.4d5e")).toBe("00:1a:2b:3c:4d:5e");
    expect(normalizeMac("00:1a:2b")).toBeNull();
    expect(normalizeMac("zz:1a:2b:3c:4d:5e")).toBeNull();
    expect(isVirtualMac("02:42:ac:11:00:02")).toBe(true); // docker: locally administered
    expect(isVirtualMac("00:00:00:00:00:00")).toBe(true);
    expect(isVirtualMac("01:00:5e:00:00:01")).toBe(true); // multicast
    expect(isVirtualMac("52:54:00:12:34:56")).toBe(false); // a qemu VM's own NIC
    expect(isVirtualMac("00:0c:29:aa:bb:cc")).toBe(false);
  });

  test("placeholder UUIDs and serials do not identify anything", () => {
    expect(normalizeUuid("00000000-0000-0000-0000-000000000000")).toBeNull();
    expect(normalizeUuid("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")).toBeNull();
    expect(normalizeUuid("4C4C4544-0042-3510-8048-B4C04F4E4A32")).toBe("4c4c4544-0042-3510-8048-b4c04f4e4a32");
    expect(normalizeUuid("not-a-uuid")).toBeNull();
    for (const s of ["To Be Filled By O.E.M.", "Default string", "0", "000000", "System Serial Number", "  ", "XXXXXX"]) expect(usableSerial(s)).toBeNull();
    expect(usableSerial(" 5CD1234XYZ ")).toBe("5CD1234XYZ");
  });
});

describe("the merge rule (DESIGN.md Machines)", () => {
  const base = { hostname: "pc-01", uuid: "4c4c4544-0042-3510-8048-b4c04f4e4a32", manufacturer: "Dell Inc.", serial: "5CD1234XYZ", macs: ["00:1a:2b:3c:4d:5e", "02:42:ac:11:00:02"] };

  test("no match creates; each identifier, in order, matches the same machine", () => {
    const { machines } = service();
    const first = machines.upsert({ ...base, agentId: "agent-1" }, { source: "test" });
    expect([first.created, first.matchedBy]).toEqual([true, null]);
    expect(machines.upsert({ hostname: "x", agentId: "agent-1" }, { source: "test" }).matchedBy).toBe("agent");
    expect(machines.upsert({ hostname: "pc-01", uuid: base.uuid.toUpperCase() }, { source: "test" }).matchedBy).toBe("uuid");
    expect(machines.upsert({ hostname: "pc-01", manufacturer: "Dell Inc.", serial: "5CD1234XYZ" }, { source: "test" }).matchedBy).toBe("serial");
    expect(machines.upsert({ hostname: "pc-01", macs: ["00-1A-2B-3C-4D-5E"] }, { source: "test" }).matchedBy).toBe("mac");
    expect(machines.upsert({ hostname: "pc-01", macs: ["02:42:ac:11:00:02"] }, { source: "test" }).created).toBe(true); // a virtual MAC matches nothing
  });

  test("placeholders never merge two different machines", () => {
    const { machines } = service();
    const a = machines.upsert({ hostname: "a", uuid: "00000000-0000-0000-0000-000000000000", manufacturer: "OEM", serial: "Default string" }, { source: "test" });
    const b = machines.upsert({ hostname: "b", uuid: "00000000-0000-0000-0000-000000000000", manufacturer: "OEM", serial: "Default string" }, { source: "test" });
    expect(a.machine.id).not.toBe(b.machine.id);
  });

  test("a reimaged machine that enrolls again keeps its record; a new machine is recorded in the history", () => {
    const { db, machines } = service();
    const first = machines.upsert({ ...base, agentId: "old-agent" }, { source: "enrollment" });
    const again = machines.upsert({ ...base, hostname: "pc-01-new", agentId: "new-agent" }, { source: "enrollment" });
    expect(again.machine.id).toBe(first.machine.id);
    expect(again.machine.agent_id).toBe("new-agent");
    expect(again.machine.hostname).toBe("pc-01-new");
    expect(db.query("SELECT count(*) AS n FROM history WHERE criterion = 'newmachine'").get()).toEqual({ n: 1 });
  });

  test("presence sets online state and the time it came online", () => {
    const { machines } = service();
    const m = machines.upsert({ ...base, jid: "m1@medulla" }, { source: "test" }).machine;
    const seen: string[] = [];
    machines.onChange((_m, change) => seen.push(change));
    machines.presence("m1@medulla", true, "192.0.2.4");
    const on = machines.getById(m.id)!;
    expect([on.online, on.xmpp_ip, typeof on.online_since]).toEqual([1, "192.0.2.4", "number"]);
    machines.presence("m1@medulla", false, "");
    expect(machines.getById(m.id)!.online).toBe(0);
    expect(seen).toEqual(["online", "offline"]);
  });
});

describe("announcements", () => {
  test("an announce from a machine's account updates that machine, whatever its facts would match", () => {
    const { db, machines } = service();
    const enrolled = machines.upsert({ hostname: "pc-01" }, { source: "enrollment" }).machine;
    machines.bindJid(enrolled.id, "m1@medulla");
    const facts = { agentId: "a1", agentVersion: "0.1.0", hostname: "pc-01", os: "linux" as const, osName: "Debian", osVersion: "12", arch: "x64", ips: ["192.0.2.9"], macs: ["00:1a:2b:3c:4d:5e"], loggedUser: "ada", uptimeSeconds: 60 };
    const m = machines.announce("m1@medulla", facts, "192.0.2.9")!;
    expect(m.id).toBe(enrolled.id);
    expect([m.jid, m.agent_id, m.os_name, m.logged_user]).toEqual(["m1@medulla", "a1", "Debian", "ada"]);
    expect(db.query("SELECT count(*) AS n FROM machines").get()).toEqual({ n: 1 });
    expect(machines.announce("ghost@medulla", facts, "")).toBeNull();
  });
});
