-- 0003: machines (one owner: the machines feature), the XMPP relay's accounts (SCRAM keys,
-- never passwords), and enrollment tokens.

CREATE TABLE machines (
  id             INTEGER PRIMARY KEY,
  agent_id       TEXT UNIQUE,
  hostname       TEXT NOT NULL,
  entity_id      INTEGER NOT NULL DEFAULT 1 REFERENCES entities (id) ON DELETE RESTRICT,
  os             TEXT NOT NULL DEFAULT '',
  os_name        TEXT NOT NULL DEFAULT '',
  os_version     TEXT NOT NULL DEFAULT '',
  arch           TEXT NOT NULL DEFAULT '',
  smbios_uuid    TEXT,
  manufacturer   TEXT NOT NULL DEFAULT '',
  serial         TEXT NOT NULL DEFAULT '',
  jid            TEXT UNIQUE,
  agent_version  TEXT NOT NULL DEFAULT '',
  ips            TEXT NOT NULL DEFAULT '[]',
  logged_user    TEXT NOT NULL DEFAULT '',
  uptime_seconds INTEGER,
  online         INTEGER NOT NULL DEFAULT 0 CHECK (online IN (0, 1)),
  online_since   INTEGER,
  last_seen_at   INTEGER,
  xmpp_ip        TEXT NOT NULL DEFAULT '',
  relay_id       TEXT NOT NULL DEFAULT 'local',
  banned         INTEGER NOT NULL DEFAULT 0 CHECK (banned IN (0, 1)),
  machine_class  TEXT NOT NULL DEFAULT '',
  has_kiosk      INTEGER NOT NULL DEFAULT 0 CHECK (has_kiosk IN (0, 1)),
  user_ou        TEXT NOT NULL DEFAULT '',
  machine_ou     TEXT NOT NULL DEFAULT '',
  inventoried_at INTEGER,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX machines_entity ON machines (entity_id);
CREATE INDEX machines_online ON machines (online, hostname);
CREATE INDEX machines_hostname ON machines (hostname COLLATE NOCASE, id);
CREATE INDEX machines_smbios ON machines (smbios_uuid);
CREATE INDEX machines_serial ON machines (manufacturer, serial);

-- Every MAC a machine reported, for the merge rule (DESIGN.md "Machines").
CREATE TABLE machine_macs (
  mac        TEXT NOT NULL,
  machine_id INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
  is_virtual INTEGER NOT NULL DEFAULT 0 CHECK (is_virtual IN (0, 1)),
  PRIMARY KEY (mac, machine_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX machine_macs_machine ON machine_macs (machine_id);

-- Accounts of the embedded XMPP relay: agents, the server itself, external components.
-- SCRAM salted keys per mechanism (RFC 5802 / 7677), never the password.
CREATE TABLE xmpp_accounts (
  username          TEXT PRIMARY KEY,
  kind              TEXT NOT NULL CHECK (kind IN ('agent', 'server', 'component')),
  machine_id        INTEGER REFERENCES machines (id) ON DELETE CASCADE,
  iterations        INTEGER NOT NULL,
  salt              BLOB NOT NULL,
  sha1_stored_key   BLOB NOT NULL,
  sha1_server_key   BLOB NOT NULL,
  sha256_stored_key BLOB NOT NULL,
  sha256_server_key BLOB NOT NULL,
  disabled          INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  created_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX xmpp_accounts_machine ON xmpp_accounts (machine_id);

CREATE TABLE enrollment_tokens (
  id         INTEGER PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  name       TEXT NOT NULL DEFAULT '',
  entity_id  INTEGER NOT NULL DEFAULT 1 REFERENCES entities (id) ON DELETE RESTRICT,
  expires_at INTEGER NOT NULL,
  max_uses   INTEGER,
  uses       INTEGER NOT NULL DEFAULT 0,
  created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;
CREATE INDEX enrollment_tokens_entity ON enrollment_tokens (entity_id);
