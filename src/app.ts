/**
 * @module app
 * Builds the appliance's logic without opening any socket: the services, the registry with
 * every feature's declarations, and the web application. `server.ts` adds listeners and the
 * scheduler around it; in-process tests call `web.fetch` on a fresh database.
 */
import type { Database } from "bun:sqlite";
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAccess, type Access } from "./access.ts";
import type { Clock } from "./clock.ts";
import { createAuthService, type AuthPolicy, type AuthService } from "./features/auth/service.ts";
import { registerAuth } from "./features/auth/index.tsx";
import { registerAccount } from "./features/account/index.tsx";
import { registerDashboard } from "./features/dashboard/index.tsx";
import { registerEntitiesApi } from "./features/entities/api.ts";
import { registerEntities } from "./features/entities/index.tsx";
import { createEntitiesService } from "./features/entities/service.ts";
import { registerGroupsApi } from "./features/groups/api.ts";
import { registerGroups } from "./features/groups/index.tsx";
import { createGroupsService } from "./features/groups/service.ts";
import { registerUsersApi } from "./features/users/api.ts";
import { registerUsers } from "./features/users/index.tsx";
import { declareDirectoryPermissions } from "./features/users/permissions.ts";
import { createUsersService } from "./features/users/service.ts";
import { createRecorder, type Recorder } from "./features/history/service.ts";
import { registerHistoryApi } from "./features/history/api.ts";
import { registerHistory } from "./features/history/index.tsx";
import { registerHealth, type ServiceStatus } from "./features/health/index.ts";
import { registerInventoryApi } from "./features/inventory/api.ts";
import { registerInventory } from "./features/inventory/index.tsx";
import { registerInventoryImport } from "./features/inventory/endpoints.ts";
import { registerDeployments, type Deployments } from "./features/deployments/index.tsx";
import { registerAudit } from "./features/audit/index.tsx";
import { wireDeployments } from "./features/deployments/wire.ts";
import type { Logger } from "./log.ts";
import { linkAgents } from "./features/machines/agents.ts";
import { createEnrollmentService, type Endpoint } from "./features/machines/enrollment.ts";
import { registerMachineGroups, type MachineGroupsFeature } from "./features/machine-groups/index.tsx";
import { registerMachines, type MachinePanel } from "./features/machines/index.tsx";
import { registerActions } from "./features/actions/index.tsx";
import { registerMachineGroupActions } from "./features/actions/group-actions.ts";
import { registerPackages } from "./features/packages/index.tsx";
import type { PackagesService } from "./features/packages/service.ts";
import { createMachinesService } from "./features/machines/service.ts";
import { registerNetboot, type NetbootFeature } from "./features/netboot/index.tsx";
import type { BootEnvironment, RecentWake } from "./features/netboot/service.ts";
import { createRelay, type Relay } from "./net/xmpp/relay.ts";
import { Scheduler } from "./scheduler/index.ts";
import { Registry } from "./registry.ts";
import { VERSION } from "./version.ts";
import { Web } from "./web/app.tsx";
import { EventHub } from "./web/events.ts";
import { registerStatic } from "./web/static-routes.ts";

export interface AppDeps {
  db: Database;
  clock: Clock;
  log: Logger;
  authPolicy?: AuthPolicy;
  /** What /healthz reports: the state of each service. */
  services?: Map<string, ServiceStatus>;
  /** The appliance's time zone: recurring jobs and time windows follow it. */
  timeZone?: string;
  /** Where agents reach the appliance (told at enrollment); read when an agent enrolls. */
  endpoint?: () => Endpoint;
  /** Network boot's view of the configuration (data/tftp, ports, locked values); none in tests. */
  boot?: BootEnvironment;
  /** Wake-on-LAN records: whether the appliance woke a MAC lately (the WOL feature provides it). */
  recentWake?: RecentWake;
  /** Where package files live (data/packages); tests get a fresh temporary folder. */
  packagesDir?: string;
}

const testEndpoint: Endpoint = { domain: "localhost", xmppHost: "localhost", xmppPort: 5222, caFingerprint: "sha256:unset", publicUrl: "https://localhost:8443" };

export interface App {
  web: Web;
  registry: Registry;
  auth: AuthService;
  recorder: Recorder;
  access: Access;
  hub: EventHub;
  /** Features register their job kinds here; `server.ts` starts it. */
  scheduler: Scheduler;
  services: Map<string, ServiceStatus>;
  /** The embedded XMPP relay: its channel works in process; `server.ts` adds the listener. */
  relay: Relay;
  /** Network boot: its service, and where server.ts hooks the UDP services' restart. */
  netboot: NetbootFeature;
  /** Machine groups: membership (`service.members`, `groupsOf`, `onMembership`) and the group-action registry. */
  machineGroups: MachineGroupsFeature;
  /** Quick actions, Wake-on-LAN (`actions.wol.recentWake`) and the remote shell's WebSocket bridge. */
  actions: ReturnType<typeof registerActions>;
  /** Packages: the deployment engine locks versions and reads manifests through it. */
  packages: PackagesService;
  /** Deployments: the engine, and where the package store, groups and Wake-on-LAN plug in. */
  deployments: Deployments;
}

export function buildApp(deps: AppDeps): App {
  const registry = new Registry();
  const recorder = createRecorder(deps.db, () => deps.clock.now());
  const access = createAccess();
  const auth = createAuthService({ db: deps.db, clock: deps.clock, recorder, policy: deps.authPolicy });
  const hub = new EventHub(deps.clock);
  const scheduler = new Scheduler({ db: deps.db, clock: deps.clock, log: deps.log, timeZone: deps.timeZone });
  const services = deps.services ?? new Map<string, ServiceStatus>([["web", "running"]]);
  const web = new Web({ db: deps.db, clock: deps.clock, log: deps.log, registry, access, auth, recorder, hub, scheduler, version: VERSION, timeZone: deps.timeZone });

  registerStatic(web);
  registerHealth(web, services);
  registerAuth(web);
  const account = registerAccount(web);

  // Users, groups and entities: the rights everything else is checked against. A user's
  // keys are the union of its own and its groups'; cached until any grant or membership changes.
  const grantsCache = new Map<number, ReadonlySet<string>>();
  const onRightsChanged = () => grantsCache.clear();
  const entities = createEntitiesService({ db: deps.db, clock: deps.clock, recorder });
  const groups = createGroupsService({ db: deps.db, clock: deps.clock, recorder, entities, onRightsChanged });
  const users = createUsersService({ db: deps.db, clock: deps.clock, recorder, entities, onRightsChanged, groupIds: () => new Set(groups.all().map((g) => g.id)) });
  entities.setGrantSource((id) => users.grantedEntities(id));
  access.setGrants((id) => {
    let keys = grantsCache.get(id);
    if (!keys) grantsCache.set(id, (keys = users.effectiveGrants(id)));
    return keys;
  });
  const perms = declareDirectoryPermissions(registry);
  registerUsers(web, { users, groups, entities, perms, tokens: account.tokens });
  registerGroups(web, { groups, users, entities, perms });
  registerEntities(web, { entities, perms });
  registerUsersApi(web, { users, entities, perms });
  registerGroupsApi(web, { groups, users, perms });
  registerEntitiesApi(web, { entities, perms });
  const history = registerHistory(web, { timeZone: deps.timeZone });
  registerHistoryApi(web, { history, timeZone: deps.timeZone });

  // Machines and their agents, reached through the embedded relay's channel.
  const endpoint = deps.endpoint ?? (() => testEndpoint);
  const relay = createRelay({ db: deps.db, log: deps.log, clock: deps.clock, domain: endpoint().domain });
  const machines = createMachinesService({ db: deps.db, clock: deps.clock, recorder, entities });
  entities.addUsage({ label: "entities.usage.machines", count: (id) => machines.countInEntity(id) });
  const agents = linkAgents({ machines, channel: relay.channel, accounts: relay.accounts, recorder, log: deps.log });
  const enrollment = createEnrollmentService({ db: deps.db, clock: deps.clock, recorder, entities, machines, accounts: relay.accounts, channel: relay.channel, endpoint });
  const machinePanels: MachinePanel[] = [];
  registerMachines(web, { machines, enrollment, agents, entities, panels: machinePanels });
  // Inventories received (our agent, FusionInventory, the GLPI agent) and requested.
  const inventoryImport = registerInventoryImport(web, { machines, entities, channel: relay.channel, accounts: relay.accounts });
  // The inventory's pages, read API and widget (the import writes what they read).
  const requests = { service: inventoryImport.requests, permission: inventoryImport.perms.request };
  registerInventoryApi(web, registerInventory(web, { machines, entities, requests }));
  // Machine groups (static, dynamic, imported), re-evaluated on machine and inventory changes;
  // `machineGroups.actions` is where other features register their group actions.
  const machineGroups = registerMachineGroups(web, { machines, entities, onInventoryStored: (l) => inventoryImport.importer.onStored(l) });

  // Quick actions, system actions, Wake-on-LAN and the remote shell (issue 6); the group
  // actions "reboot", "wake" and "run a quick action" act on a group's visible members.
  const actions = registerActions(web, { db: deps.db, machines, channel: relay.channel, log: deps.log });
  machinePanels.push(actions.machinePanel);
  registerMachineGroupActions(machineGroups.actions, actions);
  actions.useGroups((viewer, id) => {
    const g = machineGroups.service.find(id);
    return g ? { name: g.name, machineIds: machineGroups.service.visibleMemberIds(viewer, id) } : null;
  });

  // Network boot: boot services, menus, registration of machines that PXE-boot (I3, I4, I10);
  // a machine the appliance woke lately gets the wake-up default; a registering machine may
  // join a static group.
  const netboot = registerNetboot(web, {
    machines, entities, services, env: deps.boot,
    recentWake: deps.recentWake ?? ((mac, withinMs) => actions.wol.recentWake(mac, withinMs) !== null),
    groups: () => machineGroups.service.all().filter((g) => g.kind === "static").map((g) => ({ id: g.id, label: g.name })),
    addToGroup: (machineId, groupId, who, ip) => machineGroups.service.addBySystem(groupId, machineId, who, ip),
  });

  // Packages (SPEC P1–P3): descriptors, files by SHA-256, Medulla import.
  const packages = registerPackages(web, { dir: deps.packagesDir ?? join(tmpdir(), `medulla-packages-${randomUUID()}`) }).service;

  // Deployments and their audit; the package store plugs in here (machine groups and
  // Wake-on-LAN too, through the same call, once they are registered above).
  const deployments = registerDeployments(web, { machines, entities, channel: relay.channel, accounts: relay.accounts });
  registerAudit(web, deployments);
  wireDeployments(deployments, { packages, groups: machineGroups, wol: actions.wol });

  // Last: the dashboard shows the widgets every feature above declared.
  registerDashboard(web);

  return { web, registry, auth, recorder, access, hub, scheduler, services, relay, netboot, machineGroups, actions, packages, deployments };
}
