/**
 * @module inventory/api
 * The inventory's read API: one machine's last inventory with every part
 * (`GET /api/v1/machines/:id/inventory`, its software whole or a page at a time), the
 * inventory-only computers list (`GET /api/v1/inventory/machines`, SPEC C3) and the
 * fleet-wide software search (`GET /api/v1/inventory/software`, grouped, and
 * `/api/v1/inventory/software/machines`, one item per machine and matching software).
 * Same rights and entity visibility as the pages.
 */
import { Type, type TSchema } from "@sinclair/typebox";
import { ListQuery, Page, decodeCursor, encodeCursor } from "../../web/api.ts";
import type { Web } from "../../web/app.tsx";
import { viewerOf } from "../users/index.tsx";
import { ComputerKey, GroupKey, HitKey, SoftwareKey, opOf, softwareFilterOf } from "./read-input.ts";
import { COMPUTER_SORTS, STALE_MS, type InventoryReader } from "./read.ts";

const S = Type.String();
const N = Type.Union([Type.Integer(), Type.Null()]);
const Time = Type.String({ format: "date-time" });
const nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const iso = (ms: number) => new Date(ms).toISOString();

const Os = Type.Object({ name: S, version: S, fullName: S, kernel: S, arch: S, servicePack: S, installDate: S, timezone: S });
const Hardware = Type.Object({ name: S, chassis: S, memoryMb: N, workgroup: S, lastUser: S, uuid: S });
const Bios = Type.Object({ manufacturer: S, model: S, serial: S, biosVendor: S, biosVersion: S, biosDate: S, boardSerial: S, assetTag: S });
const Cpu = Type.Object({ name: S, manufacturer: S, arch: S, cores: N, threads: N, speedMhz: N });
const Memory = Type.Object({ slot: S, capacityMb: N, type: S, speedMhz: N, manufacturer: S, serial: S });
const Disk = Type.Object({ name: S, model: S, manufacturer: S, serial: S, interface: S, type: S, sizeMb: N });
const Partition = Type.Object({ mount: S, device: S, filesystem: S, label: S, totalMb: N, freeMb: N });
const Network = Type.Object({ description: S, mac: S, ip: S, netmask: S, gateway: S, subnet: S, type: S, isVirtual: Type.Boolean(), speedMbps: N, status: S });
const Software = Type.Object({ name: S, version: S, publisher: S, arch: S, source: S, installDate: S, sizeKb: N });
const User = Type.Object({ login: S, domain: S });

const Inventory = Type.Object({
  machineId: Type.Integer(), hostname: S, receivedAt: nullable(Time), source: nullable(S), agentName: S,
  os: nullable(Os), hardware: nullable(Hardware), bios: nullable(Bios), cpus: Type.Array(Cpu), memories: Type.Array(Memory), disks: Type.Array(Disk),
  partitions: Type.Array(Partition), networks: Type.Array(Network), users: Type.Array(User),
  software: Type.Object({ total: Type.Integer(), items: Type.Array(Software), next: nullable(S) }),
});

const Computer = Type.Object({
  id: Type.Integer(), hostname: S, online: Type.Boolean(), banned: Type.Boolean(), entityId: Type.Integer(), entity: S, os: S, manufacturer: S, model: S,
  serial: S, lastUser: S, inventoriedAt: Time, isStale: Type.Boolean(), source: S,
});

const SoftwareQuery = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 200, description: "Software name (contains, or equals with match=equals; case-insensitive)" })),
  match: Type.Optional(Type.Union([Type.Literal("contains"), Type.Literal("equals")])),
  op: Type.Optional(Type.String({ maxLength: 2, description: "Version comparison: < <= = >= > (or lt le eq ge gt), with `version`" })),
  version: Type.Optional(Type.String({ maxLength: 100 })),
  publisher: Type.Optional(Type.String({ maxLength: 200, description: "Publisher contains" })),
});

export function registerInventoryApi(web: Web, deps: { reader: InventoryReader; perms: { view: string } }): void {
  const { reader, perms } = deps;
  const { clock } = web.deps;

  web.api({
    method: "GET", path: "/api/v1/machines/:id/inventory", permission: perms.view, tags: ["inventory"],
    summary: "A machine's last inventory, every part",
    description: "`receivedAt` is null when the machine has not sent an inventory yet. Software comes whole unless `limit` is given; then `software.next` is the cursor of the following page.",
    params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
    query: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })), cursor: Type.Optional(Type.String({ maxLength: 500 })) }),
    response: Inventory,
    handler: ({ ctx, params, query }) => {
      const m = reader.machine(viewerOf(ctx), params.id);
      const header = reader.header(m.id);
      const after = decodeCursor(SoftwareKey, query.cursor) ?? null;
      const software = reader.software(m.id, { after, limit: query.limit ?? 100_000 });
      return {
        machineId: m.id, hostname: m.hostname, receivedAt: header ? iso(header.receivedAt) : null, source: header?.source ?? null, agentName: header?.agentName ?? "",
        os: reader.os(m.id), hardware: reader.hardware(m.id), bios: reader.bios(m.id), cpus: reader.cpus(m.id), memories: reader.memories(m.id), disks: reader.disks(m.id),
        partitions: reader.partitions(m.id), networks: reader.networks(m.id), users: reader.users(m.id),
        software: { total: reader.softwareCount(m.id), items: software.items, next: software.next ? encodeCursor(software.next) : null },
      };
    },
  });

  web.api({
    method: "GET", path: "/api/v1/inventory/machines", permission: perms.view, tags: ["inventory"],
    summary: "Machines known from inventory (the inventory-only computers view)",
    query: Type.Composite([ListQuery, Type.Object({
      state: Type.Optional(Type.Union([Type.Literal("all"), Type.Literal("online"), Type.Literal("offline")])),
      age: Type.Optional(Type.Union([Type.Literal("all"), Type.Literal("fresh"), Type.Literal("stale")], { description: "fresh: inventoried within 10 days; stale: older" })),
      entity: Type.Optional(Type.Integer({ minimum: 1 })),
      search: Type.Optional(Type.String({ maxLength: 100 })),
      sort: Type.Optional(Type.Union(Object.keys(COMPUTER_SORTS).map((k) => Type.Literal(k)))),
      desc: Type.Optional(Type.Boolean()),
    })]),
    response: Page(Computer),
    handler: ({ ctx, query }) => {
      const filter = { state: query.state ?? "all", age: query.age ?? "all", entity: query.entity ?? null, search: query.search ?? "", sort: (query.sort ?? "name") as keyof typeof COMPUTER_SORTS, desc: query.desc ?? false };
      const page = reader.computers(viewerOf(ctx), filter, { after: decodeCursor(ComputerKey, query.cursor) ?? null, limit: query.limit ?? 50 });
      const staleBefore = clock.now() - STALE_MS;
      return {
        items: page.items.map((c) => ({ ...c, inventoriedAt: iso(c.inventoriedAt), isStale: c.inventoriedAt < staleBefore })),
        next: page.next ? encodeCursor(page.next) : null,
      };
    },
  });

  const filterOf = (q: { name?: string; match?: "contains" | "equals"; op?: string; version?: string; publisher?: string }) =>
    softwareFilterOf({ name: (q.name ?? "").trim(), match: q.match ?? "contains", op: opOf(q.op), version: (q.version ?? "").trim(), publisher: (q.publisher ?? "").trim() });

  web.api({
    method: "GET", path: "/api/v1/inventory/software", permission: perms.view, tags: ["inventory"],
    summary: "Software across the fleet, grouped by name and version, with how many machines have each",
    description: "Example: `?name=7-Zip&match=equals&op=<&version=23`. Versions compare numerically (\"9.11\" < \"10.2\"); software without a version never matches a comparison. Without name and publisher the list is empty.",
    query: Type.Composite([ListQuery, SoftwareQuery]),
    response: Page(Type.Object({ name: S, version: S, publisher: S, machines: Type.Integer() })),
    handler: ({ ctx, query }) => {
      const filter = filterOf(query);
      if (!filter.name && !filter.publisher) return { items: [], next: null };
      const page = reader.softwareGroups(viewerOf(ctx), filter, { after: decodeCursor(GroupKey, query.cursor) ?? null, limit: query.limit ?? 50 });
      return { items: page.items, next: page.next ? encodeCursor(page.next) : null };
    },
  });

  web.api({
    method: "GET", path: "/api/v1/inventory/software/machines", permission: perms.view, tags: ["inventory"],
    summary: "Software across the fleet, one item per machine and matching software",
    query: Type.Composite([ListQuery, SoftwareQuery]),
    response: Page(Type.Object({ machineId: Type.Integer(), hostname: S, entity: S, online: Type.Boolean(), name: S, version: S, publisher: S })),
    handler: ({ ctx, query }) => {
      const filter = filterOf(query);
      if (!filter.name && !filter.publisher) return { items: [], next: null };
      const page = reader.softwareHits(viewerOf(ctx), filter, { after: decodeCursor(HitKey, query.cursor) ?? null, limit: query.limit ?? 50 });
      return { items: page.items, next: page.next ? encodeCursor(page.next) : null };
    },
  });
}
