/**
 * @module server
 * Runs the appliance: opens the data directory and database, makes sure the certificates
 * and the root account exist, starts each enabled listener and the scheduler. A listener
 * that cannot start logs one line (what, why, which setting) and the others still start;
 * /healthz then says "degraded". Returns a handle that stops everything in order.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildApp, type App } from "./app.ts";
import { ensureCertificates, defaultNames } from "./certs/index.ts";
import { systemClock, type Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import { openDatabase, type Database } from "./db/index.ts";
import { backupDatabase } from "./db/backup.ts";
import type { ServiceStatus } from "./features/health/index.ts";
import { createLogger, type Logger } from "./log.ts";
import { startNetbootRuntime, type NetbootRuntime } from "./features/netboot/runtime.ts";
import type { Scheduler } from "./scheduler/index.ts";
import { defaultAgentDir, listAgents } from "./features/machines/downloads.ts";
import { VERSION } from "./version.ts";

export interface Running {
  app: App;
  db: Database;
  log: Logger;
  scheduler: Scheduler;
  ports: { http: number | null; https: number | null };
  stop(): Promise<void>;
}

const BACKUPS_KEPT = 14;

/** Plain HTTP keeps serving only what boot clients, probes and inventory agents need once HTTPS is on. */
function servedOnPlainHttp(path: string): boolean {
  // FusionInventory and the GLPI agent are often pointed at http://…/inventory and do not
  // follow a redirect on POST; without credentials (allowed networks) they post there.
  return path === "/healthz" || path.startsWith("/boot/") || path === "/inventory";
}

export async function startServer(config: Config, opts: { clock?: Clock; print?: (line: string) => void } = {}): Promise<Running> {
  const clock = opts.clock ?? systemClock;
  const print = opts.print ?? ((line: string) => console.log(line));
  mkdirSync(config.dataDir, { recursive: true });
  const log = createLogger({ level: config.logLevel, dir: join(config.dataDir, "logs") });
  log.info({ version: VERSION, dataDir: config.dataDir }, "medulla starting");

  const db = openDatabase(join(config.dataDir, "medulla.db"));
  const services = new Map<string, ServiceStatus>();

  // One TLS identity for HTTPS and XMPP; agents pin its CA.
  let tls: { cert: string; key: string } | null = null;
  let caFingerprint = "";
  if (config.httpsPort > 0 || config.xmppPort > 0) {
    try {
      const bundle = await ensureCertificates(join(config.dataDir, "certs"), defaultNames(config.publicUrl, [config.xmppDomain]));
      tls = { cert: bundle.cert, key: bundle.key };
      caFingerprint = bundle.caFingerprint;
      log.info({ ca: bundle.caFingerprint, source: bundle.source }, "TLS certificate ready");
    } catch (err) {
      log.error({ setting: "MEDULLA_DATA_DIR" }, `TLS certificate problem: ${(err as Error).message}; https and xmpp cannot start`);
    }
  }
  const publicHost = new URL(config.publicUrl).hostname;
  const endpoint = () => ({
    domain: config.xmppDomain.toLowerCase(),
    xmppHost: publicHost,
    xmppPort: config.xmppPort,
    caFingerprint,
    // Agents enroll over HTTPS: the public URL when it is HTTPS, else the same host on the HTTPS port.
    publicUrl: config.publicUrl.startsWith("https:") ? config.publicUrl : `https://${publicHost}:${ports.https ?? config.httpsPort}`,
  });
  const ports = { http: null as number | null, https: null as number | null, xmpp: null as number | null };
  const boot = {
    tftpRoot: join(config.dataDir, "tftp"), httpPort: config.httpPort, tftpPort: config.tftpPort,
    proxyDhcp: config.locked.has("proxyDhcp") ? config.proxyDhcp : null, bootAddress: config.bootAddress,
  };
  const app = buildApp({ db, clock, log, services, timeZone: config.timeZone, endpoint, boot, packagesDir: join(config.dataDir, "packages") });

  const agentDir = defaultAgentDir();
  log.info({ dir: agentDir, files: listAgents(agentDir).map((a) => a.name).join(" ") || "none" }, "agent downloads");

  const generated = await app.auth.ensureRoot(config.adminPassword);
  if (generated) print(`Initial password for root: ${generated}`);

  const scheduler = app.scheduler;
  scheduler.register("db.backup", () => {
    try {
      const b = backupDatabase(db, join(config.dataDir, "backups"), clock.now(), BACKUPS_KEPT);
      app.recorder.record({ module: "system", action: "history.backup.done", params: { file: b.name }, who: "scheduler" });
      log.info({ file: b.file, size: b.size }, "database backup written");
    } catch (err) {
      app.recorder.record({ module: "system", action: "history.backup.failed", params: { error: (err as Error).message }, who: "scheduler" });
      throw err;
    }
  });
  scheduler.register("auth.purge", () => {
    const n = app.auth.purge();
    log.debug(n, "expired sessions and old sign-in failures purged");
  });
  scheduler.schedule("db.backup", "db.backup", "daily:02:30");
  scheduler.schedule("auth.purge", "auth.purge", "every:3600000");
  scheduler.start();
  services.set("scheduler", "running");

  const servers: { stop(force?: boolean): unknown }[] = [];
  const listen = (name: string, setting: string, start: () => { port: number; stop(force?: boolean): unknown }) => {
    try {
      const server = start();
      servers.push(server);
      services.set(name, "running");
      log.info(`listening on ${name === "https" ? "https" : "http"} ${config.bind}:${server.port}`);
      return server.port;
    } catch (err) {
      services.set(name, "failed");
      log.error({ setting }, `${name} cannot start on ${config.bind}: ${(err as Error).message} (setting ${setting})`);
      return null;
    }
  };

  let httpsOn = false;
  if (config.httpsPort > 0) {
    if (!tls) services.set("https", "failed");
    else {
      ports.https = listen("https", "MEDULLA_HTTPS_PORT", () =>
        Bun.serve({
          hostname: config.bind, port: config.httpsPort, reusePort: false, tls, maxRequestBodySize: 64 << 20, idleTimeout: 60,
          websocket: app.actions.shell.websocket,
          fetch: (req, srv) => {
            if (req.url.endsWith("/events")) srv.timeout(req, 0); // the live stream stays open
            const ip = srv.requestIP(req)?.address ?? "";
            const upgraded = app.actions.shell.upgrade(req, srv, { ip }); // the remote shell's WebSocket
            if (upgraded !== null) return upgraded;
            return app.web.fetch(req, { ip, isHttps: true });
          },
        }) as { port: number; stop(force?: boolean): unknown },
      );
      httpsOn = ports.https !== null;
    }
  } else services.set("https", "off");

  // The XMPP relay: STARTTLS is required, so without a certificate it cannot start.
  let relayListener: { port: number; stop(): Promise<void> } | null = null;
  if (config.xmppPort > 0) {
    if (!tls) services.set("xmpp", "failed");
    else {
      try {
        relayListener = await app.relay.listen({ host: config.bind, port: config.xmppPort, tls });
        ports.xmpp = relayListener.port;
        services.set("xmpp", "running");
      } catch (err) {
        services.set("xmpp", "failed");
        log.error({ setting: "MEDULLA_XMPP_PORT" }, `xmpp cannot start on ${config.bind}: ${(err as Error).message} (setting MEDULLA_XMPP_PORT)`);
      }
    }
  } else services.set("xmpp", "off");

  if (config.httpPort > 0) {
    ports.http = listen("http", "MEDULLA_HTTP_PORT", () =>
      Bun.serve({
        hostname: config.bind, port: config.httpPort, reusePort: false, maxRequestBodySize: 64 << 20, idleTimeout: 60,
        websocket: app.actions.shell.websocket,
        fetch: (req, srv) => {
          const url = new URL(req.url);
          // HTTPS configured but down: refuse rather than carry passwords and cookies in clear.
          if (config.httpsPort > 0 && !httpsOn && !servedOnPlainHttp(url.pathname)) {
            return new Response("HTTPS is configured but could not start: see the log. Set MEDULLA_HTTPS_PORT=0 to serve over plain HTTP.\n", {
              status: 503, headers: { "content-type": "text/plain; charset=utf-8" },
            });
          }
          if (httpsOn && !servedOnPlainHttp(url.pathname)) {
            url.protocol = "https:";
            url.port = String(ports.https);
            return Response.redirect(url.toString(), req.method === "GET" || req.method === "HEAD" ? 301 : 308);
          }
          if (url.pathname === "/events") srv.timeout(req, 0);
          const ip = srv.requestIP(req)?.address ?? "";
          const upgraded = app.actions.shell.upgrade(req, srv, { ip }); // the remote shell's WebSocket
          if (upgraded !== null) return upgraded;
          return app.web.fetch(req, { ip, isHttps: false });
        },
      }) as { port: number; stop(force?: boolean): unknown },
    );
  } else services.set("http", "off");

  // Network boot's UDP services: TFTP and, when switched on, the proxyDHCP.
  const netboot: NetbootRuntime = await startNetbootRuntime({ netboot: app.netboot.service, recorder: app.recorder, log, services, bind: config.bind, tftpPort: config.tftpPort });
  app.netboot.setApply(() => netboot.apply());

  const pidFile = join(config.dataDir, "medulla.pid");
  writeFileSync(pidFile, String(process.pid));

  return {
    app, db, log, scheduler, ports,
    async stop() {
      app.hub.closeAll();
      app.actions.shell.closeAll();
      for (const s of servers) s.stop(true);
      await netboot.stop();
      await relayListener?.stop();
      await scheduler.stop();
      db.close();
      rmSync(pidFile, { force: true });
      log.info("medulla stopped");
    },
  };
}
