-- 0004: hardware and software inventory (GLPI inventory format), normalised per part,
-- with the document kept as received (unknown parts included) and a per-machine history
-- of what appeared, changed and disappeared.

-- The last inventory of each machine, as received (gzip-compressed JSON, GLPI format).
CREATE TABLE inventories (
  machine_id   INTEGER PRIMARY KEY REFERENCES machines (id) ON DELETE CASCADE,
  received_at  INTEGER NOT NULL,
  source       TEXT NOT NULL CHECK (source IN ('agent', 'fusioninventory', 'glpi-agent', 'import')),
  agent_name   TEXT NOT NULL DEFAULT '',
  hash         TEXT NOT NULL,
  document     BLOB NOT NULL,
  size         INTEGER NOT NULL
) STRICT;

CREATE TABLE inv_os (
  machine_id   INTEGER PRIMARY KEY REFERENCES machines (id) ON DELETE CASCADE,
  name         TEXT NOT NULL DEFAULT '',
  version      TEXT NOT NULL DEFAULT '',
  full_name    TEXT NOT NULL DEFAULT '',
  kernel       TEXT NOT NULL DEFAULT '',
  arch         TEXT NOT NULL DEFAULT '',
  service_pack TEXT NOT NULL DEFAULT '',
  install_date TEXT NOT NULL DEFAULT '',
  timezone     TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE inv_hardware (
  machine_id   INTEGER PRIMARY KEY REFERENCES machines (id) ON DELETE CASCADE,
  name         TEXT NOT NULL DEFAULT '',
  chassis      TEXT NOT NULL DEFAULT '',
  memory_mb    INTEGER,
  workgroup    TEXT NOT NULL DEFAULT '',
  last_user    TEXT NOT NULL DEFAULT '',
  uuid         TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE inv_bios (
  machine_id    INTEGER PRIMARY KEY REFERENCES machines (id) ON DELETE CASCADE,
  manufacturer  TEXT NOT NULL DEFAULT '',
  model         TEXT NOT NULL DEFAULT '',
  serial        TEXT NOT NULL DEFAULT '',
  bios_vendor   TEXT NOT NULL DEFAULT '',
  bios_version  TEXT NOT NULL DEFAULT '',
  bios_date     TEXT NOT NULL DEFAULT '',
  board_serial  TEXT NOT NULL DEFAULT '',
  asset_tag     TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE inv_cpus (
  id           INTEGER PRIMARY KEY,
  machine_id   INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
  name         TEXT NOT NULL DEFAULT '',
  manufacturer TEXT NOT NULL DEFAULT '',
  arch         TEXT NOT NULL DEFAULT '',
  cores        INTEGER,
  threads      INTEGER,
  speed_mhz    INTEGER
) STRICT;
CREATE INDEX inv_cpus_machine ON inv_cpus (machine_id);

CREATE TABLE inv_memories (
  id           INTEGER PRIMARY KEY,
  machine_id   INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
  slot         TEXT NOT NULL DEFAULT '',
  capacity_mb  INTEGER,
  type         TEXT NOT NULL DEFAULT '',
  speed_mhz    INTEGER,
  manufacturer TEXT NOT NULL DEFAULT '',
  serial       TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX inv_memories_machine ON inv_memories (machine_id);

-- Physical disks (GLPI "storages").
CREATE TABLE inv_disks (
  id           INTEGER PRIMARY KEY,
  machine_id   INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
  name         TEXT NOT NULL DEFAULT '',
  model        TEXT NOT NULL DEFAULT '',
  manufacturer TEXT NOT NULL DEFAULT '',
  serial       TEXT NOT NULL DEFAULT '',
  interface    TEXT NOT NULL DEFAULT '',
  type         TEXT NOT NULL DEFAULT '',
  size_mb      INTEGER
) STRICT;
CREATE INDEX inv_disks_machine ON inv_disks (machine_id);

-- File systems (GLPI "drives").
CREATE TABLE inv_partitions (
  id          INTEGER PRIMARY KEY,
  machine_id  INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
  mount       TEXT NOT NULL DEFAULT '',
  device      TEXT NOT NULL DEFAULT '',
  filesystem  TEXT NOT NULL DEFAULT '',
  label       TEXT NOT NULL DEFAULT '',
  total_mb    INTEGER,
  free_mb     INTEGER
) STRICT;
CREATE INDEX inv_partitions_machine ON inv_partitions (machine_id);

-- One row per interface and address (GLPI "networks").
CREATE TABLE inv_networks (
  id          INTEGER PRIMARY KEY,
  machine_id  INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
  description TEXT NOT NULL DEFAULT '',
  mac         TEXT NOT NULL DEFAULT '',
  ip          TEXT NOT NULL DEFAULT '',
  netmask     TEXT NOT NULL DEFAULT '',
  gateway     TEXT NOT NULL DEFAULT '',
  subnet      TEXT NOT NULL DEFAULT '',
  type        TEXT NOT NULL DEFAULT '',
  is_virtual  INTEGER NOT NULL DEFAULT 0 CHECK (is_virtual IN (0, 1)),
  speed_mbps  INTEGER,
  status      TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX inv_networks_machine ON inv_networks (machine_id);
CREATE INDEX inv_networks_ip ON inv_networks (ip);
CREATE INDEX inv_networks_subnet ON inv_networks (subnet, gateway);

-- Installed software. version_key sorts versions numerically ("10.2" after "9.11"): each
-- run of digits is left-padded to 10 digits, so SQL can compare versions (software search,
-- dynamic groups) with plain < and >.
CREATE TABLE inv_software (
  id           INTEGER PRIMARY KEY,
  machine_id   INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  version      TEXT NOT NULL DEFAULT '',
  version_key  TEXT NOT NULL DEFAULT '',
  publisher    TEXT NOT NULL DEFAULT '',
  arch         TEXT NOT NULL DEFAULT '',
  source       TEXT NOT NULL DEFAULT '',
  install_date TEXT NOT NULL DEFAULT '',
  size_kb      INTEGER
) STRICT;
CREATE INDEX inv_software_machine ON inv_software (machine_id);
CREATE INDEX inv_software_name ON inv_software (name COLLATE NOCASE, version_key);

CREATE TABLE inv_users (
  id          INTEGER PRIMARY KEY,
  machine_id  INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
  login       TEXT NOT NULL,
  domain      TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX inv_users_machine ON inv_users (machine_id);

-- What changed between two inventories of a machine.
CREATE TABLE inv_changes (
  id          INTEGER PRIMARY KEY,
  machine_id  INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
  at          INTEGER NOT NULL,
  section     TEXT NOT NULL,
  change      TEXT NOT NULL CHECK (change IN ('added', 'removed', 'changed')),
  item        TEXT NOT NULL,
  before      TEXT NOT NULL DEFAULT '',
  after       TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX inv_changes_machine ON inv_changes (machine_id, at, id);

CREATE INDEX machines_inventoried ON machines (inventoried_at);
