-- 0002: entities, user groups, rights, the user fields of SPEC U2, API tokens, two-factor
-- sign-in, and history search support.

CREATE TABLE entities (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  parent_id  INTEGER REFERENCES entities (id) ON DELETE RESTRICT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  CHECK ((id = 1) = (parent_id IS NULL))
) STRICT;
CREATE UNIQUE INDEX entities_name_per_parent ON entities (coalesce(parent_id, 0), name COLLATE NOCASE);
-- The root of the tree exists from the start and cannot be deleted or moved.
INSERT INTO entities (id, name, parent_id, created_at, updated_at) VALUES (1, 'Root', NULL, 0, 0);

-- User groups (SPEC U4). Machine groups are another feature's.
CREATE TABLE user_groups (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE CHECK (name GLOB '[a-z]*' AND name NOT GLOB '*[^a-z0-9]*' AND length(name) <= 64),
  description TEXT NOT NULL DEFAULT '',
  entity_id   INTEGER NOT NULL DEFAULT 1 REFERENCES entities (id) ON DELETE RESTRICT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;

ALTER TABLE users ADD COLUMN primary_group_id INTEGER REFERENCES user_groups (id) ON DELETE SET NULL;
ALTER TABLE users ADD COLUMN is_public INTEGER NOT NULL DEFAULT 0 CHECK (is_public IN (0, 1));
ALTER TABLE users ADD COLUMN is_recursive INTEGER NOT NULL DEFAULT 0 CHECK (is_recursive IN (0, 1));
ALTER TABLE users ADD COLUMN has_statistics INTEGER NOT NULL DEFAULT 0 CHECK (has_statistics IN (0, 1));
ALTER TABLE users ADD COLUMN photo BLOB;
ALTER TABLE users ADD COLUMN photo_type TEXT;
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0 CHECK (totp_enabled IN (0, 1));
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
CREATE INDEX users_primary_group ON users (primary_group_id);

-- Secondary groups; the primary group is users.primary_group_id. Both grant rights.
CREATE TABLE user_group_members (
  group_id INTEGER NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
  user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX user_group_members_user ON user_group_members (user_id);

-- Entities a user may see (and their children when users.is_recursive).
CREATE TABLE user_entities (
  user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  entity_id INTEGER NOT NULL REFERENCES entities (id) ON DELETE RESTRICT,
  PRIMARY KEY (user_id, entity_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX user_entities_entity ON user_entities (entity_id);

-- Permission keys granted (registry keys). Absent means denied.
CREATE TABLE user_grants (
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key     TEXT NOT NULL,
  PRIMARY KEY (user_id, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE group_grants (
  group_id INTEGER NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
  key      TEXT NOT NULL,
  PRIMARY KEY (group_id, key)
) STRICT, WITHOUT ROWID;

-- Bearer tokens of the JSON API; only a hash is kept.
CREATE TABLE api_tokens (
  id           INTEGER PRIMARY KEY,
  user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash   TEXT NOT NULL UNIQUE,
  name         TEXT NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  source_ip    TEXT NOT NULL DEFAULT '',
  revoked_at   INTEGER
) STRICT;
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Sessions waiting for their second factor are not sessions yet.
ALTER TABLE sessions ADD COLUMN second_factor_pending INTEGER NOT NULL DEFAULT 0 CHECK (second_factor_pending IN (0, 1));

-- History: lookups by user and by target; free-text search scans the filtered range.
CREATE INDEX history_user_at ON history (user_id, at, id);
CREATE INDEX history_target ON history (target_type, target_id, at);
