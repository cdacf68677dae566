-- 0007: network boot (SPEC I3, I4, I10): boot services (the entries of iPXE menus), boot
-- menus (the default one, and one per machine when it has its own), and the log of boot
-- requests (DHCP, TFTP, menus, registrations) that the live page shows.

CREATE TABLE boot_services (
  id          INTEGER PRIMARY KEY,
  -- Built-in services keep their code (localdisk, register, shell, memtest, reboot);
  -- services added by admins get "custom-<n>".
  code        TEXT NOT NULL UNIQUE,
  -- Empty for a built-in: its label comes from the catalogue in the reader's language.
  label       TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  -- iPXE commands run when the entry is chosen; ${medulla} is the appliance's boot URL.
  script      TEXT NOT NULL DEFAULT '',
  builtin     INTEGER NOT NULL DEFAULT 0 CHECK (builtin IN (0, 1)),
  enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  position    INTEGER NOT NULL DEFAULT 0,
  -- Files (|-separated) of data/tftp of which one must exist for the entry to show.
  requires    TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;

INSERT INTO boot_services (code, builtin, enabled, position, requires, script, created_at, updated_at) VALUES
  ('localdisk', 1, 1, 10, '', 'iseq ${platform} efi && exit 0 ||
sanboot --no-describe --drive 0x80 || exit 0', 0, 0),
  ('register', 1, 1, 20, '', 'chain --autofree ${medulla}/boot/register.ipxe?mac=${netX/mac}&uuid=${uuid}&arch=${buildarch}&platform=${platform}', 0, 0),
  ('shell', 1, 1, 30, '', 'echo Type "exit" to come back to the menu.
shell', 0, 0),
  ('memtest', 1, 1, 40, 'memtest86+x64.efi|memtest86+x64.bin', 'iseq ${platform} efi && chain ${medulla}/boot/files/memtest86+x64.efi ||
chain ${medulla}/boot/files/memtest86+x64.bin', 0, 0),
  ('reboot', 1, 0, 50, '', 'reboot', 0, 0);

CREATE TABLE boot_menus (
  id              INTEGER PRIMARY KEY,
  -- NULL: the default menu (one row). A machine's own menu otherwise.
  machine_id      INTEGER UNIQUE REFERENCES machines (id) ON DELETE CASCADE,
  -- Codes of boot_services: chosen when the timeout runs out, at normal boot and after a
  -- wake-up sent by the appliance (Wake-on-LAN) within wol_window_minutes.
  default_service TEXT NOT NULL DEFAULT 'localdisk',
  wol_service     TEXT NOT NULL DEFAULT 'localdisk',
  wol_window_minutes INTEGER NOT NULL DEFAULT 10 CHECK (wol_window_minutes BETWEEN 1 AND 1440),
  timeout_seconds INTEGER NOT NULL DEFAULT 10 CHECK (timeout_seconds BETWEEN 0 AND 3600),
  -- Show the menu, or boot the default entry at once (timeout 0 does the same).
  hidden          INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
  updated_at      INTEGER NOT NULL
) STRICT;
INSERT INTO boot_menus (id, machine_id, updated_at) VALUES (1, NULL, 0);

CREATE TABLE boot_requests (
  id         INTEGER PRIMARY KEY,
  at         INTEGER NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('dhcp', 'tftp', 'menu', 'register', 'file')),
  mac        TEXT NOT NULL DEFAULT '',
  ip         TEXT NOT NULL DEFAULT '',
  arch       TEXT NOT NULL DEFAULT '',
  what       TEXT NOT NULL DEFAULT '',
  outcome    TEXT NOT NULL,
  detail     TEXT NOT NULL DEFAULT '',
  machine_id INTEGER REFERENCES machines (id) ON DELETE SET NULL
) STRICT;
CREATE INDEX boot_requests_at ON boot_requests (at);
