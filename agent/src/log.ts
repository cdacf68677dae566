/**
 * @module agent/log
 * The agent's log: one readable line per event on stderr (services capture it: journald,
 * launchd's log file, the Windows event log through the service wrapper). Levels filter;
 * fields are appended as key=value so a line stays greppable.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  level: LogLevel;
}

export function isLogLevel(v: string): v is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(v);
}

/** One line: time, level, message, fields; values with spaces are quoted. */
export function formatLine(level: LogLevel, msg: string, fields: Record<string, unknown> = {}, now = new Date()): string {
  const parts = [now.toISOString(), level.toUpperCase().padEnd(5), msg.replace(/[\r\n]+/g, " ")];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const s = typeof v === "string" ? v : v instanceof Error ? v.message : JSON.stringify(v);
    parts.push(`${k}=${/[\s"=]/.test(s) || s === "" ? JSON.stringify(s) : s}`);
  }
  return parts.join(" ");
}

export function createLogger(level: LogLevel = "info", write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Logger {
  const log = { level } as Logger;
  for (const l of LOG_LEVELS) {
    log[l] = (msg, fields) => {
      if (LOG_LEVELS.indexOf(l) < LOG_LEVELS.indexOf(log.level)) return;
      write(formatLine(l, msg, fields));
    };
  }
  return log;
}

/** A logger that keeps its lines, for tests. */
export function memoryLogger(level: LogLevel = "debug"): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger(level, (l) => lines.push(l)), { lines });
}
