/**
 * @module agent/inventory/format
 * The inventory document the agent posts: the GLPI inventory format
 * (glpi-project/inventory_format, `inventory.schema.json`), restricted to the parts and
 * fields this agent fills. Field names and units are that format's: memory, swap, drive and
 * partition sizes in MiB ("MB" in the format), disk sizes in MB as disk makers count them
 * (10^6 bytes), CPU and memory speeds in MHz, software `filesize` in bytes, battery
 * capacity in mWh and voltage in mV, dates as `YYYY-MM-DD` or `YYYY-MM-DD hh:mm:ss`.
 * Every part is always present in a document we build; a part we could not read is empty.
 */

/** `YYYY-MM-DD` or `YYYY-MM-DD hh:mm:ss` (the format's `dateordatetime`). */
export type GlpiDate = string;

export interface Hardware {
  name?: string;
  uuid?: string;
  memory?: number;
  swap?: number;
  chassis_type?: string;
  vmsystem?: string;
  workgroup?: string;
  dns?: string;
  defaultgateway?: string;
  lastloggeduser?: string;
  winowner?: string;
  wincompany?: string;
  winprodid?: string;
  winlang?: string;
}

export interface OperatingSystem {
  name?: string;
  version?: string;
  full_name?: string;
  kernel_name?: string;
  kernel_version?: string;
  arch?: string;
  service_pack?: string;
  install_date?: GlpiDate;
  boot_time?: GlpiDate;
  fqdn?: string;
  dns_domain?: string;
  timezone?: { name: string; offset: string };
}

export interface Bios {
  bdate?: GlpiDate;
  bmanufacturer?: string;
  bversion?: string;
  smanufacturer?: string;
  smodel?: string;
  ssn?: string;
  skunumber?: string;
  mmanufacturer?: string;
  mmodel?: string;
  msn?: string;
  assettag?: string;
  enclosureserial?: string;
  biosserial?: string;
}

export interface Cpu {
  name?: string;
  manufacturer?: string;
  arch?: string;
  core?: number;
  thread?: number;
  speed?: number;
  familynumber?: string;
  familyname?: string;
  model?: string;
  stepping?: number;
  id?: string;
  cache?: string;
}

export interface Memory {
  capacity?: number;
  caption?: string;
  description?: string;
  manufacturer?: string;
  serialnumber?: string;
  model?: string;
  speed?: string;
  type?: string;
  numslots?: number;
  memorycorrection?: string;
}

export interface Storage {
  name?: string;
  description?: string;
  model?: string;
  manufacturer?: string;
  serial?: string;
  firmware?: string;
  interface?: string;
  type?: string;
  disksize?: number;
}

export interface Drive {
  letter?: string;
  volumn?: string;
  type?: string;
  description?: string;
  filesystem?: string;
  label?: string;
  serial?: string;
  total?: number;
  free?: number;
  systemdrive?: boolean;
}

export interface Network {
  description: string;
  mac?: string;
  type?: "ethernet" | "wifi" | "infiniband" | "aggregate" | "alias" | "dialup" | "loopback" | "bridge" | "fibrechannel" | "bluetooth";
  virtualdev?: boolean;
  status?: "up" | "down" | "dormant" | "notpresent" | "lowerlayerdown" | "unknown" | "testing";
  ipaddress?: string;
  ipmask?: string;
  ipsubnet?: string;
  ipgateway?: string;
  ipdhcp?: string;
  ipaddress6?: string;
  ipmask6?: string;
  ipsubnet6?: string;
  mtu?: number;
  speed?: string;
  manufacturer?: string;
  pnpdeviceid?: string;
}

export interface Software {
  name: string;
  version?: string;
  publisher?: string;
  arch?: string;
  from?: string;
  filesize?: number;
  install_date?: GlpiDate;
  comments?: string;
  guid?: string;
  folder?: string;
  uninstall_string?: string;
  url_info_about?: string;
  helplink?: string;
  release_type?: string;
  system_category?: string;
  no_remove?: boolean;
  username?: string;
  userid?: string;
}

export interface User {
  login: string;
  domain?: string;
}

export interface LocalUser {
  id: string;
  login?: string;
  name?: string;
  home?: string;
  shell?: string;
}

export interface Antivirus {
  name?: string;
  company?: string;
  version?: string;
  enabled?: boolean;
  uptodate?: boolean;
  guid?: string;
  base_version?: string;
  base_creation?: GlpiDate;
}

export interface Battery {
  name?: string;
  manufacturer?: string;
  serial?: string;
  chemistry?: string;
  capacity?: number;
  real_capacity?: number;
  voltage?: number;
  date?: GlpiDate;
}

export interface Monitor {
  name?: string;
  caption?: string;
  manufacturer?: string;
  serial?: string;
  description?: string;
  port?: string;
}

export interface Printer {
  name: string;
  driver?: string;
  port?: string;
  network?: boolean;
  shared?: boolean;
  sharename?: string;
  servername?: string;
  comment?: string;
  description?: string;
}

export interface InventoryContent {
  versionclient: string;
  hardware: Hardware;
  operatingsystem: OperatingSystem;
  bios: Bios;
  cpus: Cpu[];
  memories: Memory[];
  storages: Storage[];
  drives: Drive[];
  networks: Network[];
  softwares: Software[];
  users: User[];
  local_users: LocalUser[];
  antivirus: Antivirus[];
  batteries: Battery[];
  monitors: Monitor[];
  printers: Printer[];
  /** Ours, beside the GLPI parts: the agent id the server matches machines on first. */
  medulla?: { agentId: string };
}

export interface InventoryDocument {
  deviceid: string;
  itemtype: "Computer";
  content: InventoryContent;
}

/** The parts an OS collector fills; `versionclient` is the agent's, set by the caller. */
export type CollectedContent = Omit<InventoryContent, "versionclient" | "medulla">;

export function emptyContent(): CollectedContent {
  return {
    hardware: {},
    operatingsystem: {},
    bios: {},
    cpus: [],
    memories: [],
    storages: [],
    drives: [],
    networks: [],
    softwares: [],
    users: [],
    local_users: [],
    antivirus: [],
    batteries: [],
    monitors: [],
    printers: [],
  };
}

/** The parts every document carries, arrays or objects (the document-shape test reads this). */
export const CONTENT_PARTS = Object.keys(emptyContent()) as (keyof CollectedContent)[];

/** Where a parser reports what it could not read; the collector logs these as warnings. */
export type Warn = (message: string) => void;
