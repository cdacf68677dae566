-- 0005: machine groups (SPEC C4–C7). One owner: the machine-groups feature. A static group's
-- members are picked (or imported); a dynamic group's are its query's result, kept here so
-- that other features read membership without evaluating anything, and re-evaluated when
-- inventories, presence or other groups change. Every entry and exit is kept as an event
-- (the convergence feature reads them).

CREATE TABLE machine_groups (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN ('static', 'dynamic')),
  -- A dynamic group's query (JSON, see docs/groups.md); NULL for a static group.
  query        TEXT,
  -- How a static group was made: picked by hand or imported from a file.
  origin       TEXT NOT NULL DEFAULT 'manual' CHECK (origin IN ('manual', 'import')),
  description  TEXT NOT NULL DEFAULT '',
  created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
  evaluated_at INTEGER,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX machine_groups_name ON machine_groups (name COLLATE NOCASE);

CREATE TABLE machine_group_members (
  group_id   INTEGER NOT NULL REFERENCES machine_groups (id) ON DELETE CASCADE,
  machine_id INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
  since      INTEGER NOT NULL,
  PRIMARY KEY (group_id, machine_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX machine_group_members_machine ON machine_group_members (machine_id, group_id);

-- Which groups a dynamic group's query names: evaluation order, and cycles refused.
CREATE TABLE machine_group_refs (
  group_id   INTEGER NOT NULL REFERENCES machine_groups (id) ON DELETE CASCADE,
  refers_to  INTEGER NOT NULL REFERENCES machine_groups (id) ON DELETE RESTRICT,
  PRIMARY KEY (group_id, refers_to)
) STRICT, WITHOUT ROWID;
CREATE INDEX machine_group_refs_target ON machine_group_refs (refers_to);

-- Favourite groups, per user: they appear in that user's menu.
CREATE TABLE machine_group_favourites (
  user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  group_id   INTEGER NOT NULL REFERENCES machine_groups (id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, group_id)
) STRICT, WITHOUT ROWID;

-- Entered / left, in order. No foreign keys: events outlive deleted machines and groups.
CREATE TABLE machine_group_events (
  id         INTEGER PRIMARY KEY,
  group_id   INTEGER NOT NULL,
  machine_id INTEGER NOT NULL,
  change     TEXT NOT NULL CHECK (change IN ('entered', 'left')),
  at         INTEGER NOT NULL
) STRICT;
CREATE INDEX machine_group_events_group ON machine_group_events (group_id, id);
CREATE INDEX machine_group_events_machine ON machine_group_events (machine_id, id);
