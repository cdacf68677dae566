/**
 * @module netboot/menu
 * Builds the iPXE scripts boot clients receive (pure functions, no database): the first
 * script (which chains to the menu with the client's identity), a machine's menu (SPEC I4:
 * default entry, timeout, another default after a wake-up sent by the appliance), and the
 * registration menu for unknown machines (SPEC I10: name, entity and group asked in iPXE).
 * Every value that came from the database or the client is cleaned for iPXE: menu texts
 * lose characters iPXE would read as syntax (`$`, `{`, `}`, `#`, quotes, `&`, `|`, `;`,
 * line ends) and accents (iPXE's console shows bytes, not UTF-8).
 */

export interface MenuService {
  code: string;
  label: string;
  script: string;
}

export interface MenuSettings {
  defaultService: string;
  wolService: string;
  timeoutSeconds: number;
  hidden: boolean;
}

/** Text shown by iPXE (menu titles, items, echo): no variables, comments, quotes or line ends. */
export function ipxeText(s: string, max = 80): string {
  // iPXE's console shows bytes, not UTF-8: accents are dropped (é → e), other non-ASCII becomes "?".
  return s
    .replace(/[\r\n\t]+/g, " ")
    .replace(/[›»]/g, ">")
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[${}#"'\\&|;<>`]/g, (c) => (c === ">" ? ">" : ""))
    .replace(/[^\x20-\x7e]/g, "?")
    .trim()
    .slice(0, max);
}

/** A label-safe code (iPXE labels and item names). */
export function ipxeName(code: string): string {
  return code.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 40);
}

/** The first script: asks for the menu again with what iPXE knows of the machine. */
export function startScript(base: string): string {
  return [
    "#!ipxe",
    `chain --autofree ${base}/boot/menu.ipxe?mac=\${netX/mac:hexhyp}&uuid=\${uuid}&arch=\${buildarch}&platform=\${platform}&ip=\${netX/ip} ||`,
    "echo Medulla: the boot menu could not be loaded; booting from the local disk in 10 s",
    "sleep 10",
    "exit 0",
    "",
  ].join("\n");
}

export interface MachineMenuInput {
  base: string;
  title: string;
  services: MenuService[];
  settings: MenuSettings;
  /** The appliance woke this machine recently: the WOL default applies. */
  woke: boolean;
  /** Texts in the appliance's language. */
  texts: { choose: string; woke: string; failed: string };
}

function serviceBlocks(services: MenuService[], failed: string): string[] {
  const lines: string[] = [];
  for (const s of services) {
    lines.push(`:svc-${ipxeName(s.code)}`);
    // Scripts are the admin's iPXE lines; a line starting with ":" would define a label, allowed.
    for (const l of s.script.replace(/\r/g, "").split("\n")) if (l.trim() !== "" && !l.trim().startsWith("#!")) lines.push(l);
    lines.push(`echo ${ipxeText(failed)}`, "prompt --timeout 5000 || goto start");
  }
  return lines;
}

/** A machine's menu (its own or the default one). */
export function machineMenu(m: MachineMenuInput): string {
  const codes = m.services.map((s) => ipxeName(s.code));
  const wanted = ipxeName(m.woke ? m.settings.wolService : m.settings.defaultService);
  const chosen = codes.includes(wanted) ? wanted : codes[0];
  const lines = ["#!ipxe", `set medulla ${m.base}`];
  if (!chosen) {
    lines.push(`echo ${ipxeText(m.title)}: ${ipxeText(m.texts.failed)}`, "sleep 10", "exit 0", "");
    return lines.join("\n");
  }
  const timeoutMs = Math.max(0, Math.min(3600, Math.round(m.settings.timeoutSeconds))) * 1000;
  if (m.settings.hidden || timeoutMs === 0) {
    lines.push(`echo ${ipxeText(m.title)}`, `goto svc-${chosen}`);
  } else {
    lines.push(":start", `menu ${ipxeText(m.title)}`);
    if (m.woke) lines.push(`item --gap -- ${ipxeText(m.texts.woke)}`);
    for (const s of m.services) lines.push(`item svc-${ipxeName(s.code)} ${ipxeText(s.label) || ipxeName(s.code)}`);
    lines.push(`choose --default svc-${chosen} --timeout ${timeoutMs} target && goto \${target} || goto svc-${chosen}`);
  }
  lines.push(...serviceBlocks(m.services, m.texts.failed), "");
  return lines.join("\n");
}

export interface RegistrationInput {
  base: string;
  title: string;
  mac: string;
  uuid: string;
  arch: string;
  platform: string;
  entities: { id: number; label: string }[];
  groups: { id: number; label: string }[];
  /** Other enabled entries offered beside registration (local disk, shell...). */
  services: MenuService[];
  texts: { register: string; name: string; entity: string; group: string; noGroup: string; failed: string };
}

/** The menu of a machine the appliance does not know: register it, or boot something else. */
export function registrationMenu(r: RegistrationInput): string {
  const q = (v: string) => encodeURIComponent(v);
  const others = r.services.filter((s) => s.code !== "register");
  const lines = [
    "#!ipxe",
    `set medulla ${r.base}`,
    ":start",
    `menu ${ipxeText(r.title)}`,
    `item svc-register ${ipxeText(r.texts.register)}`,
    ...others.map((s) => `item svc-${ipxeName(s.code)} ${ipxeText(s.label) || ipxeName(s.code)}`),
    "choose --default svc-register --timeout 60000 target && goto ${target} || goto start",
    ":svc-register",
    ":ask-name",
    `echo -n ${ipxeText(r.texts.name)}: && read mname || goto start`,
    "isset ${mname} || goto ask-name",
  ];
  if (r.entities.length > 1) {
    lines.push(`menu ${ipxeText(r.texts.entity)}`);
    for (const e of r.entities) lines.push(`item ${e.id} ${ipxeText(e.label)}`);
    lines.push(`choose --default ${r.entities[0]!.id} mentity || goto start`);
  } else lines.push(`set mentity ${r.entities[0]?.id ?? 1}`);
  if (r.groups.length > 0) {
    lines.push(`menu ${ipxeText(r.texts.group)}`, `item 0 ${ipxeText(r.texts.noGroup)}`);
    for (const g of r.groups) lines.push(`item ${g.id} ${ipxeText(g.label)}`);
    lines.push("choose --default 0 mgroup || goto start");
  } else lines.push("set mgroup 0");
  lines.push(
    `chain --autofree \${medulla}/boot/register?mac=${q(r.mac)}&uuid=${q(r.uuid)}&arch=${q(r.arch)}&platform=${q(r.platform)}&name=\${mname:uristring}&entity=\${mentity}&group=\${mgroup} || goto register-failed`,
    ":register-failed",
    `echo ${ipxeText(r.texts.failed)}`,
    "prompt --timeout 5000 || goto start",
    "goto start",
    ...serviceBlocks(others, r.texts.failed),
    "",
  );
  return lines.join("\n");
}
