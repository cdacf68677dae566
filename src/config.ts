/**
 * @module config
 * One typed, validated, frozen configuration (DESIGN.md "Configuration contract").
 * Each setting comes from its flag (`--http-port 8080` or `--http-port=8080`), else its
 * `MEDULLA_*` variable, else the embedded default. A bad value throws a `ConfigError`
 * naming the setting; `main.ts` prints it and stops.
 */
import { hostname } from "node:os";
import { resolve } from "node:path";

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal";

export interface Config {
  dataDir: string;
  bind: string;
  httpPort: number;
  httpsPort: number;
  xmppPort: number;
  tftpPort: number;
  proxyDhcp: boolean;
  /** The IPv4 address told to PXE clients; null: the network-boot settings page decides. */
  bootAddress: string | null;
  xmppDomain: string;
  publicUrl: string;
  adminPassword: string | undefined;
  logLevel: LogLevel;
  timeZone: string;
  /** Which settings were given by flag or variable: pages show these locked. */
  locked: ReadonlySet<string>;
}

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = "ConfigError";
  }
}

interface Spec<T> {
  variable: string;
  parse: (raw: string, name: string) => T;
}

const port: Spec<number>["parse"] = (raw, name) => {
  if (!/^\d{1,5}$/.test(raw.trim()) || Number(raw) > 65535) {
    throw new ConfigError(name, `"${raw}" is not a port number (0 to 65535; 0 switches the service off)`);
  }
  return Number(raw);
};
const text: Spec<string>["parse"] = (raw, name) => {
  if (raw.trim() === "") throw new ConfigError(name, "must not be empty");
  return raw.trim();
};
const onOff: Spec<boolean>["parse"] = (raw, name) => {
  const v = raw.trim().toLowerCase();
  if (["on", "true", "1", "yes"].includes(v)) return true;
  if (["off", "false", "0", "no"].includes(v)) return false;
  throw new ConfigError(name, `"${raw}" is neither on nor off`);
};
const levels: LogLevel[] = ["trace", "debug", "info", "warn", "error", "fatal"];
const logLevel: Spec<LogLevel>["parse"] = (raw, name) => {
  const v = raw.trim().toLowerCase() as LogLevel;
  if (!levels.includes(v)) throw new ConfigError(name, `"${raw}" is not one of ${levels.join(", ")}`);
  return v;
};
const timeZone: Spec<string>["parse"] = (raw, name) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: raw.trim() });
  } catch {
    throw new ConfigError(name, `"${raw}" is not a known time zone (e.g. Europe/Paris, UTC)`);
  }
  return raw.trim();
};
const bind: Spec<string>["parse"] = (raw, name) => {
  const v = text(raw, name);
  if (!/^[0-9a-fA-F.:]+$|^localhost$/.test(v)) throw new ConfigError(name, `"${raw}" is not an IP address`);
  return v;
};
const url: Spec<string>["parse"] = (raw, name) => {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new ConfigError(name, `"${raw}" is not a URL (e.g. https://medulla.example.lan:8443)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new ConfigError(name, "must be an http or https URL");
  return u.toString().replace(/\/$/, "");
};

const ipv4: Spec<string>["parse"] = (raw, name) => {
  const v = raw.trim();
  const parts = v.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new ConfigError(name, `"${raw}" is not an IPv4 address (e.g. 192.168.1.10)`);
  return v;
};

/** Every setting: its flag is the variable's name without MEDULLA_, lowercase with dashes. */
const specs = {
  dataDir: { variable: "MEDULLA_DATA_DIR", parse: text },
  bind: { variable: "MEDULLA_BIND", parse: bind },
  httpPort: { variable: "MEDULLA_HTTP_PORT", parse: port },
  httpsPort: { variable: "MEDULLA_HTTPS_PORT", parse: port },
  xmppPort: { variable: "MEDULLA_XMPP_PORT", parse: port },
  tftpPort: { variable: "MEDULLA_TFTP_PORT", parse: port },
  proxyDhcp: { variable: "MEDULLA_PROXYDHCP", parse: onOff },
  bootAddress: { variable: "MEDULLA_BOOT_ADDRESS", parse: ipv4 },
  xmppDomain: { variable: "MEDULLA_XMPP_DOMAIN", parse: text },
  publicUrl: { variable: "MEDULLA_PUBLIC_URL", parse: url },
  adminPassword: { variable: "MEDULLA_ADMIN_PASSWORD", parse: text },
  logLevel: { variable: "MEDULLA_LOG_LEVEL", parse: logLevel },
  timeZone: { variable: "MEDULLA_TZ", parse: timeZone },
} satisfies Record<string, Spec<unknown>>;

type Key = keyof typeof specs;

export function flagName(variable: string): string {
  return `--${variable.replace(/^MEDULLA_/, "").toLowerCase().replaceAll("_", "-")}`;
}

/** Every flag this program understands, for `--help`. */
export const settingsHelp = Object.values(specs).map((s) => ({ flag: flagName(s.variable), variable: s.variable }));

/**
 * Splits `--name value` / `--name=value` pairs out of `args`. Unknown flags are
 * an error: a typo must not silently fall back to a default.
 */
export function parseFlags(args: readonly string[]): { flags: Map<string, string>; rest: string[] } {
  const known = new Map(Object.values(specs).map((s) => [flagName(s.variable), s.variable]));
  const flags = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--") || arg === "--help" || arg === "--version") {
      rest.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const variable = known.get(flag);
    if (!variable) throw new ConfigError(flag, "unknown option (see medulla --help)");
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) throw new ConfigError(flag, "needs a value");
    flags.set(variable, value);
  }
  return { flags, rest };
}

export function loadConfig(flags: ReadonlyMap<string, string>, env: Record<string, string | undefined>): Config {
  const host = hostname() || "medulla";
  const locked = new Set<string>();
  const read = <K extends Key>(key: K): ReturnType<(typeof specs)[K]["parse"]> | undefined => {
    const spec = specs[key];
    const fromFlag = flags.get(spec.variable);
    const raw = fromFlag ?? env[spec.variable];
    if (raw === undefined) return undefined;
    locked.add(key);
    return spec.parse(raw, fromFlag === undefined ? spec.variable : flagName(spec.variable)) as never;
  };

  const httpPort = read("httpPort") ?? 8080;
  const config: Config = {
    dataDir: resolve(read("dataDir") ?? "./data"),
    bind: read("bind") ?? "0.0.0.0",
    httpPort,
    httpsPort: read("httpsPort") ?? 8443,
    xmppPort: read("xmppPort") ?? 5222,
    tftpPort: read("tftpPort") ?? 69,
    proxyDhcp: read("proxyDhcp") ?? false,
    bootAddress: read("bootAddress") ?? null,
    xmppDomain: read("xmppDomain") ?? host,
    publicUrl: read("publicUrl") ?? `http://${host}:${httpPort}`,
    adminPassword: read("adminPassword"),
    logLevel: read("logLevel") ?? "info",
    timeZone: read("timeZone") ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC",
    locked,
  };
  if (config.httpPort === 0 && config.httpsPort === 0) {
    throw new ConfigError("MEDULLA_HTTP_PORT", "the web service needs HTTP or HTTPS: both ports are 0");
  }
  return Object.freeze(config);
}
