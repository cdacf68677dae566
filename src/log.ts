/**
 * @module log
 * pino, writing each record twice: as a JSON line into `data/logs/medulla-YYYY-MM-DD.log`
 * (one file a day, the oldest removed past `keepDays`), and as a short readable line on the
 * console. Both streams are ours rather than pino transports: transports run in worker
 * threads that the compiled single binary would have to carry as separate files.
 */
import { appendFileSync, mkdirSync, readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import pino, { type Logger } from "pino";
import type { LogLevel } from "./config.ts";

export type { Logger };

const levelNames: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };

/** One JSON line a record, into a file named for the UTC day; old files pruned at each new day. */
export class DailyFileStream {
  #day = "";
  #file = "";

  constructor(
    readonly dir: string,
    readonly keepDays = 14,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  write(line: string): void {
    const day = new Date().toISOString().slice(0, 10);
    const isNewDay = day !== this.#day;
    if (isNewDay) {
      this.#day = day;
      this.#file = join(this.dir, `medulla-${day}.log`);
    }
    // Synchronous appends: a record is on disk before the next line of code runs,
    // so the last words before a crash are kept.
    appendFileSync(this.#file, line);
    if (isNewDay) this.prune();
  }

  prune(): void {
    const files = readdirSync(this.dir).filter((f) => /^medulla-\d{4}-\d{2}-\d{2}\.log$/.test(f)).sort();
    for (const f of files.slice(0, Math.max(0, files.length - this.keepDays))) unlinkSync(join(this.dir, f));
  }
}

/** Turns a pino JSON line into `15:04:05 INFO  message key=value …`. */
export function prettyLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line);
  } catch {
    return line;
  }
  const { level, time, msg, pid: _pid, hostname: _host, ...rest } = rec;
  const at = new Date(Number(time)).toISOString().slice(11, 19);
  const extras = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${at} ${(levelNames[Number(level)] ?? "?").padEnd(5)} ${msg ?? ""}${extras ? ` ${extras}` : ""}\n`;
}

export interface LogOptions {
  level: LogLevel;
  /** `data/logs`; no file when omitted (tests). */
  dir?: string;
  /** Console output; off in tests. */
  console?: boolean;
}

export function createLogger(options: LogOptions): Logger {
  const streams: pino.StreamEntry[] = [];
  if (options.dir) {
    const file = new DailyFileStream(options.dir);
    streams.push({ level: options.level, stream: { write: (l: string) => file.write(l) } });
  }
  if (options.console !== false) {
    streams.push({ level: options.level, stream: { write: (l: string) => process.stdout.write(prettyLine(l)) } });
  }
  if (streams.length === 0) return pino({ level: "silent" });
  return pino(
    { level: options.level, base: undefined, timestamp: pino.stdTimeFunctions.epochTime },
    pino.multistream(streams),
  );
}

/** A logger that says nothing: the default in tests. */
export const silentLogger: Logger = pino({ level: "silent" });
