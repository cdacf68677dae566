-- 0008: software packages (SPEC P1–P3). One row per package version; the descriptor is
-- kept whole (JSON, validated on every write), the columns the list sorts and filters on
-- are copied out of it. Payload files are stored once on disk, addressed by SHA-256
-- (data/packages/blobs/ab/abcdef…); a version lists its files. A version is locked the
-- first time a deployment uses it: editing a locked version creates a new one.

CREATE TABLE packages (
  id           INTEGER PRIMARY KEY,
  uuid         TEXT NOT NULL UNIQUE,
  name         TEXT NOT NULL,
  version      TEXT NOT NULL,
  description  TEXT NOT NULL DEFAULT '',
  kind         TEXT NOT NULL CHECK (kind IN ('install', 'uninstall', 'script')),
  target_os    TEXT NOT NULL DEFAULT '[]',
  share        TEXT NOT NULL DEFAULT 'global',
  descriptor   TEXT NOT NULL,
  size_bytes   INTEGER NOT NULL DEFAULT 0,
  file_count   INTEGER NOT NULL DEFAULT 0,
  origin       TEXT NOT NULL DEFAULT 'empty' CHECK (origin IN ('empty', 'upload', 'existing', 'directory', 'import')),
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
  locked_at    INTEGER,
  previous_id  INTEGER REFERENCES packages (id) ON DELETE SET NULL,
  UNIQUE (name, version)
) STRICT;
CREATE INDEX packages_name ON packages (name COLLATE NOCASE);
CREATE INDEX packages_created ON packages (created_at);

-- The files of a version: a path inside the package folder and the blob it holds.
CREATE TABLE package_files (
  package_id  INTEGER NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
  path        TEXT NOT NULL,
  sha256      TEXT NOT NULL,
  size        INTEGER NOT NULL,
  PRIMARY KEY (package_id, path)
) STRICT;
CREATE INDEX package_files_sha ON package_files (sha256);

-- Mirror state per distribution point (SPEC P3). Until relay mode exists the appliance
-- ('local') is the only one; a relay id will name the others.
CREATE TABLE package_sync (
  package_id  INTEGER NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
  relay_id    TEXT NOT NULL DEFAULT 'local',
  state       TEXT NOT NULL CHECK (state IN ('pending', 'syncing', 'synced', 'error')),
  error       TEXT NOT NULL DEFAULT '',
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (package_id, relay_id)
) STRICT;
CREATE INDEX package_sync_state ON package_sync (state);
