import { describe, expect, test } from "bun:test";
import { hostname } from "node:os";
import { ConfigError, flagName, loadConfig, parseFlags } from "../../src/config.ts";

const load = (args: string[], env: Record<string, string> = {}) => loadConfig(parseFlags(args).flags, env);

describe("configuration contract", () => {
  test("embedded defaults", () => {
    const c = load([], {});
    expect({ ...c, locked: [...c.locked] }).toEqual({
      dataDir: `${process.cwd()}/data`, bind: "0.0.0.0", httpPort: 8080, httpsPort: 8443, xmppPort: 5222, tftpPort: 69,
      proxyDhcp: false, bootAddress: null, xmppDomain: hostname(), publicUrl: `http://${hostname()}:8080`, adminPassword: undefined,
      logLevel: "info", timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone, locked: [],
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  test("the boot address is an IPv4 address, and locks the page's field", () => {
    const c = load(["--boot-address", "10.0.0.5"]);
    expect(c.bootAddress).toBe("10.0.0.5");
    expect(c.locked.has("bootAddress")).toBe(true);
    expect(() => load([], { MEDULLA_BOOT_ADDRESS: "10.0.0.256" })).toThrow("MEDULLA_BOOT_ADDRESS");
    expect(() => load(["--boot-address=host.lan"])).toThrow("--boot-address");
  });

  test("a flag wins over its variable; both forms of flag work", () => {
    expect(load(["--http-port", "9000"], { MEDULLA_HTTP_PORT: "9001" }).httpPort).toBe(9000);
    expect(load(["--http-port=9002"]).httpPort).toBe(9002);
    expect(load([], { MEDULLA_HTTP_PORT: "9003" }).httpPort).toBe(9003);
    const c = load(["--proxydhcp", "on", "--tz", "Europe/Paris"], { MEDULLA_XMPP_DOMAIN: "medulla.lan" });
    expect([c.proxyDhcp, c.timeZone, c.xmppDomain]).toEqual([true, "Europe/Paris", "medulla.lan"]);
    expect([...c.locked].sort()).toEqual(["proxyDhcp", "timeZone", "xmppDomain"]);
  });

  test("flag names derive from variable names", () => {
    expect(flagName("MEDULLA_HTTP_PORT")).toBe("--http-port");
    expect(flagName("MEDULLA_PUBLIC_URL")).toBe("--public-url");
  });

  test("0 switches a service off", () => {
    expect(load(["--https-port", "0", "--tftp-port", "0"])).toMatchObject({ httpsPort: 0, tftpPort: 0 });
  });

  const bad: [string[], Record<string, string>, string][] = [
    [["--http-port", "abc"], {}, "--http-port"],
    [[], { MEDULLA_HTTPS_PORT: "70000" }, "MEDULLA_HTTPS_PORT"],
    [[], { MEDULLA_PROXYDHCP: "maybe" }, "MEDULLA_PROXYDHCP"],
    [[], { MEDULLA_LOG_LEVEL: "loud" }, "MEDULLA_LOG_LEVEL"],
    [[], { MEDULLA_TZ: "Mars/Olympus" }, "MEDULLA_TZ"],
    [["--public-url", "ftp://x"], {}, "--public-url"],
    [["--bind", "not an ip"], {}, "--bind"],
    [["--data-dir", " "], {}, "--data-dir"],
    [["--http-port", "0", "--https-port", "0"], {}, "MEDULLA_HTTP_PORT"],
  ];
  for (const [args, env, setting] of bad) {
    test(`a bad value stops the start naming ${setting}`, () => {
      try {
        load(args, env);
        throw new Error("accepted");
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).setting).toBe(setting);
        expect((err as Error).message).toStartWith(`${setting}: `);
      }
    });
  }

  test("unknown flags and missing values are errors, not silent defaults", () => {
    expect(() => parseFlags(["--htp-port", "1"])).toThrow("--htp-port: unknown option");
    expect(() => parseFlags(["--http-port"])).toThrow("--http-port: needs a value");
  });
});
