#!/usr/bin/env bun
/**
 * @module main
 * The `medulla` command: `serve` (the default) starts what the configuration enables;
 * `version`, `--help`, `admin reset-password <user>`, `backup` and `restore <file>` are the
 * administrator's tools. Bad settings and unusable databases stop here with one clear line.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { installUploadedCertificate, removeUploadedCertificate } from "./certs/index.ts";
import { systemClock } from "./clock.ts";
import { ConfigError, loadConfig, parseFlags, settingsHelp, type Config } from "./config.ts";
import { DatabaseError, openDatabase } from "./db/index.ts";
import { backupDatabase, restoreDatabase } from "./db/backup.ts";
import { createAuthService } from "./features/auth/service.ts";
import { createRecorder } from "./features/history/service.ts";
import { startServer } from "./server.ts";
import { VERSION } from "./version.ts";

const HELP = `medulla ${VERSION}: one box that runs a small IT shop's fleet

Usage:
  medulla [serve] [options]            run the appliance (web, scheduler, ...)
  medulla version                      print the version
  medulla admin reset-password <user>  give <user> a new generated password
  medulla backup                       write an online backup of the database now
  medulla restore <backup-file>        replace the database with a backup (server stopped)
  medulla cert install <crt> <key>     serve your own certificate (PEM chain + key) instead of the local CA's
  medulla cert remove                  go back to the certificate signed by the local CA
  medulla --help                       this text

Options (each also read from its environment variable; a flag wins):
${settingsHelp.map((s) => `  ${(s.flag + " VALUE").padEnd(30)} ${s.variable}`).join("\n")}

A port of 0 switches that service off. Data lives in --data-dir (default ./data).`;

function fail(message: string): never {
  console.error(`medulla: ${message}`);
  process.exit(1);
}

function isRunning(config: Config): number | null {
  const pidFile = join(config.dataDir, "medulla.pid");
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, "utf8"));
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

async function main(argv: string[]): Promise<void> {
  const { flags, rest } = parseFlags(argv);
  const [command = "serve", ...args] = rest;
  if (command === "--help" || command === "help" || command === "-h") return void console.log(HELP);
  if (command === "version" || command === "--version") return void console.log(VERSION);

  const config = loadConfig(flags, process.env);
  const dbFile = join(config.dataDir, "medulla.db");

  switch (command) {
    case "serve": {
      const running = await startServer(config);
      const shutdown = async (signal: string) => {
        running.log.info({ signal }, "stopping");
        await running.stop();
        process.exit(0);
      };
      process.on("SIGINT", () => void shutdown("SIGINT"));
      process.on("SIGTERM", () => void shutdown("SIGTERM"));
      return;
    }
    case "admin": {
      if (args[0] !== "reset-password" || !args[1]) fail("usage: medulla admin reset-password <user>");
      const db = openDatabase(dbFile);
      const auth = createAuthService({ db, clock: systemClock, recorder: createRecorder(db) });
      try {
        const password = await auth.resetPassword(args[1]);
        console.log(`Initial password for ${args[1]}: ${password}`);
      } catch (err) {
        fail((err as Error).message);
      } finally {
        db.close();
      }
      return;
    }
    case "backup": {
      const db = openDatabase(dbFile);
      const b = backupDatabase(db, join(config.dataDir, "backups"), Date.now(), 14);
      db.close();
      console.log(`backup written: ${b.file}`);
      return;
    }
    case "restore": {
      if (!args[0]) fail("usage: medulla restore <backup-file>");
      const pid = isRunning(config);
      if (pid) fail(`the server is running (pid ${pid}); stop it before restoring`);
      try {
        const kept = restoreDatabase(args[0], dbFile, Date.now());
        console.log(`restored ${args[0]} into ${dbFile}${kept ? `; the previous database was kept as ${kept}` : ""}`);
      } catch (err) {
        fail((err as Error).message);
      }
      return;
    }
    case "cert": {
      const dir = join(config.dataDir, "certs");
      try {
        if (args[0] === "install" && args[1] && args[2]) {
          await installUploadedCertificate(dir, readFileSync(args[1], "utf8"), readFileSync(args[2], "utf8"));
          console.log("certificate installed; restart medulla to serve it (agents pinned to the local CA must be re-pinned)");
        } else if (args[0] === "remove") {
          await removeUploadedCertificate(dir);
          console.log("uploaded certificate removed; restart medulla to serve the local CA's certificate");
        } else fail("usage: medulla cert install <certificate.pem> <key.pem> | medulla cert remove");
      } catch (err) {
        fail((err as Error).message);
      }
      return;
    }
    default:
      fail(`unknown command "${command}" (see medulla --help)`);
  }
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof ConfigError || err instanceof DatabaseError) fail(err.message);
  fail((err as Error).stack ?? String(err));
});
