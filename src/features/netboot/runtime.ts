/**
 * @module netboot/runtime
 * Runs network boot's UDP services beside the web server: the setup step that copies
 * Debian's iPXE binaries into data/tftp (when missing or changed), the TFTP server
 * (MEDULLA_TFTP_PORT, 0 = off) and the proxyDHCP (MEDULLA_PROXYDHCP or the settings page;
 * ports 67 and 4011, other ports only for tests). A service that cannot start logs one line
 * (what, why, which setting) and the others go on; `apply()` starts or stops the proxy when
 * the settings page switches it. Every DHCP answer and TFTP transfer goes to the boot log.
 */
import { copyFileSync, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ServiceStatus } from "../health/index.ts";
import type { Recorder } from "../history/service.ts";
import type { Logger } from "../../log.ts";
import type { ArchFamily } from "../../net/dhcp/codec.ts";
import { startProxyDhcp, type ProxyDhcp, type ProxyPolicy } from "../../net/dhcp/proxy.ts";
import { startTftp, type TftpServer } from "../../net/tftp/server.ts";
import { IPXE_FILES, IPXE_SOURCE, type NetbootService } from "./service.ts";

/** Copies the iPXE binaries into `root`; returns the names copied. Missing sources are skipped. */
export function installIpxeFiles(root: string, source = IPXE_SOURCE): string[] {
  mkdirSync(root, { recursive: true });
  const copied: string[] = [];
  for (const name of IPXE_FILES) {
    const from = join(source, name);
    if (!existsSync(from)) continue;
    const to = join(root, name);
    if (existsSync(to) && statSync(to).size === statSync(from).size && statSync(to).mtimeMs >= statSync(from).mtimeMs) continue;
    copyFileSync(from, to);
    copied.push(name);
  }
  return copied;
}

/** Boot file per architecture family, among the files present. */
export function bootFileFor(has: (name: string) => boolean, family: ArchFamily): string | null {
  const first = (...names: string[]) => names.find(has) ?? null;
  switch (family) {
    case "bios":
      return first("undionly.kpxe", "ipxe.pxe");
    case "efi-x64":
      return first("snponly.efi", "ipxe.efi");
    case "efi-arm64":
      return first("arm64/snponly.efi", "arm64/ipxe.efi", "snponly-arm64.efi", "ipxe-arm64.efi");
    case "efi-ia32":
      return first("i386/snponly.efi", "ipxe-i386.efi");
    default:
      return null;
  }
}

export interface NetbootRuntimeOptions {
  netboot: NetbootService;
  recorder: Recorder;
  log: Logger;
  services: Map<string, ServiceStatus>;
  bind: string;
  tftpPort: number;
  /** Tests only: other ports than 67 / 4011. */
  dhcpPort?: number;
  pxePort?: number;
  ipxeSource?: string;
}

export interface NetbootRuntime {
  tftpPort: number | null;
  proxyPorts: { dhcp: number; pxe: number } | null;
  /** Starts or stops the proxyDHCP to match the settings. */
  apply(): Promise<void>;
  stop(): Promise<void>;
}

export async function startNetbootRuntime(o: NetbootRuntimeOptions): Promise<NetbootRuntime> {
  const { netboot, log } = o;
  const root = netboot.env.tftpRoot;
  if (root) {
    try {
      const copied = installIpxeFiles(root, o.ipxeSource);
      if (copied.length) log.info({ files: copied }, `iPXE boot files copied into ${root}`);
      if (!IPXE_FILES.some((f) => existsSync(join(root, f)))) log.warn(`no iPXE boot files in ${root}: install Debian's ipxe package (apt install ipxe) and restart`);
    } catch (err) {
      log.error(`cannot prepare ${root}: ${(err as Error).message}`);
    }
  }

  let tftp: TftpServer | null = null;
  if (o.tftpPort > 0 && root) {
    try {
      tftp = await startTftp({
        root, bind: o.bind, port: o.tftpPort,
        onEvent: (e) => {
          const ip = e.client.replace(/:\d+$/, "");
          netboot.log({ kind: "tftp", mac: "", ip, arch: "", what: e.file, outcome: e.outcome, detail: e.reason ?? `${e.bytes} B, ${e.ms} ms, blksize ${e.blksize ?? 512}, window ${e.windowsize ?? 1}${e.engine === "worker" ? ", worker" : ""}`, machine_id: null });
          if (e.outcome === "done" || e.outcome === "failed") {
            o.recorder.record({ module: "imaging", action: e.outcome === "done" ? "netboot.history.tftpDone" : "netboot.history.tftpFailed", params: { file: e.file, bytes: e.bytes, reason: e.reason ?? "" }, criterion: "none", who: ip, sourceIp: ip });
          }
        },
      });
      o.services.set("tftp", "running");
      log.info(`listening on udp ${o.bind}:${tftp.port} (tftp, root ${root})`);
    } catch (err) {
      o.services.set("tftp", "failed");
      log.error({ setting: "MEDULLA_TFTP_PORT" }, `tftp cannot start on ${o.bind}:${o.tftpPort}: ${(err as Error).message} (setting MEDULLA_TFTP_PORT; ports below 1024 need root)`);
    }
  } else o.services.set("tftp", "off");

  const policy = (): ProxyPolicy => {
    const s = netboot.settings();
    return {
      serverIp: s.address,
      nextServer: s.nextServer || s.address,
      bootFile: (family) => bootFileFor((name) => netboot.fileExists(name), family),
      ipxeUrl: () => `${s.bootUrl ?? `http://${s.address}`}/boot/menu.ipxe`,
    };
  };

  let proxy: ProxyDhcp | null = null;
  let warned = 0;
  async function apply(): Promise<void> {
    const want = netboot.settings().proxyDhcp;
    if (want && !proxy) {
      try {
        // DHCP discovers are broadcasts: a socket bound to one unicast address never sees them,
        // so the proxy listens on every IPv4 address whatever MEDULLA_BIND says.
        proxy = await startProxyDhcp({
          bind: o.dhcpPort === undefined ? "0.0.0.0" : o.bind, dhcpPort: o.dhcpPort ?? 67, pxePort: o.pxePort ?? 4011, policy,
          onEvent: (e) => {
            // The site's other DHCP traffic, and PXE clients' REQUESTs to the real DHCP server: not ours.
            if (e.outcome === "ignored" && (e.reason === "not-pxe" || e.reason === "not-request" || e.reason === "other-server")) return;
            if (e.outcome === "malformed" && Date.now() - warned > 60_000) {
              warned = Date.now();
              log.warn({ from: e.from }, `proxydhcp: malformed packet ignored: ${e.reason}`);
            }
            const r = e.request;
            netboot.log({
              kind: "dhcp", mac: r?.mac ?? "", ip: e.from, arch: r ? `${r.arch ?? "-"}${r.isIpxe ? " iPXE" : ""}` : "", what: e.file ?? "", outcome: e.outcome,
              detail: [e.port === "pxe" ? "port 4011" : "port 67", e.reason ?? ""].filter(Boolean).join(", "), machine_id: r?.mac ? netboot.machineIdByMac(r.mac) : null,
            });
          },
        });
        o.services.set("proxydhcp", "running");
        const where = o.dhcpPort === undefined ? "0.0.0.0" : o.bind;
        log.info(`listening on udp ${where}:${proxy.ports.dhcp} (proxydhcp)`);
        log.info(`listening on udp ${where}:${proxy.ports.pxe} (proxydhcp, PXE)`);
      } catch (err) {
        o.services.set("proxydhcp", "failed");
        log.error({ setting: "MEDULLA_PROXYDHCP" }, `proxydhcp cannot start on ${o.bind}: ${(err as Error).message} (setting MEDULLA_PROXYDHCP; ports 67 and 4011 need root)`);
      }
    } else if (!want) {
      if (proxy) {
        await proxy.stop();
        proxy = null;
        log.info("proxydhcp stopped");
      }
      o.services.set("proxydhcp", "off");
    }
  }
  await apply();

  return {
    get tftpPort() {
      return tftp?.port ?? null;
    },
    get proxyPorts() {
      return proxy?.ports ?? null;
    },
    apply,
    async stop() {
      await tftp?.stop();
      await proxy?.stop();
      proxy = null;
    },
  };
}
