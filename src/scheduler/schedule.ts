/**
 * @module scheduler/schedule
 * Recurring schedules as stored in `jobs.schedule`, parsed and stepped with no I/O
 * and no clock: `every:<ms>` is a fixed interval, `daily:HH:MM` a wall-clock time in
 * an IANA zone. Daily times go through Intl so DST days behave: a local time that
 * does not exist (spring forward) runs at the first instant after the gap, and one
 * that happens twice (fall back) runs only at its first occurrence.
 */

export type Schedule =
  | { readonly type: "every"; readonly ms: number }
  | { readonly type: "daily"; readonly hour: number; readonly minute: number };

const DAY_MS = 86_400_000;

/** Parses `every:<ms>` or `daily:HH:MM`; throws an Error saying what is wrong. */
export function parseSchedule(text: string): Schedule {
  const every = /^every:(\d+)$/.exec(text);
  if (every) {
    const ms = Number(every[1]);
    if (!Number.isSafeInteger(ms) || ms <= 0) {
      throw new Error(`invalid schedule "${text}": the interval must be a positive number of milliseconds`);
    }
    return { type: "every", ms };
  }
  const daily = /^daily:(\d{2}):(\d{2})$/.exec(text);
  if (daily) {
    const hour = Number(daily[1]);
    const minute = Number(daily[2]);
    if (hour > 23 || minute > 59) {
      throw new Error(`invalid schedule "${text}": the time must be between 00:00 and 23:59`);
    }
    return { type: "daily", hour, minute };
  }
  throw new Error(`invalid schedule "${text}": expected "every:<milliseconds>" or "daily:HH:MM"`);
}

/** Throws a clear Error unless `timeZone` is an IANA zone this runtime knows. */
export function checkTimeZone(timeZone: string): void {
  try {
    formatter(timeZone);
  } catch {
    throw new Error(`unknown time zone "${timeZone}": expected an IANA name such as "Europe/Paris"`);
  }
}

/** The first run strictly after `afterMs` (epoch ms, UTC). */
export function nextRun(schedule: string | Schedule, afterMs: number, timeZone: string): number {
  const s = typeof schedule === "string" ? parseSchedule(schedule) : schedule;
  if (s.type === "every") return afterMs + s.ms;
  const today = localParts(afterMs, timeZone);
  // Three days covers any zone that skips a whole calendar day (Samoa, 2011).
  for (let day = 0; day < 3; day++) {
    const wall = Date.UTC(today.year, today.month - 1, today.day + day, s.hour, s.minute);
    const at = wallToInstant(wall, timeZone);
    if (at > afterMs) return at;
  }
  throw new Error(`no run found for daily:${s.hour}:${s.minute} in ${timeZone}`);
}

/**
 * The instant when the local clock in `timeZone` shows `wall` (a local time encoded
 * as if it were UTC). Of two such instants the earlier wins; if none exists, the
 * instant the clock jumps past it.
 */
function wallToInstant(wall: number, timeZone: string): number {
  // At most one offset change happens within a day of any wall time, so the offsets
  // a day either side are the only ones that can apply.
  const offsets = [...new Set([offsetAt(wall - DAY_MS, timeZone), offsetAt(wall + DAY_MS, timeZone)])];
  const exact = offsets
    .map((o) => wall - o)
    .filter((t) => localWall(t, timeZone) === wall)
    .sort((a, b) => a - b);
  if (exact[0] !== undefined) return exact[0];
  // In the gap: local time jumps from below `wall` to above it somewhere in between.
  let lo = wall - Math.max(...offsets);
  let hi = wall - Math.min(...offsets);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localWall(mid, timeZone) >= wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The local wall time at instant `t`, encoded as if it were UTC. */
function localWall(t: number, timeZone: string): number {
  return t + offsetAt(t, timeZone);
}

function offsetAt(t: number, timeZone: string): number {
  const p = localParts(t, timeZone);
  const wholeSeconds = Math.floor(t / 1000) * 1000;
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - wholeSeconds;
}

function localParts(t: number, timeZone: string) {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(t)) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
  return { year, month, day, hour, minute, second };
}

// Building a DateTimeFormat is far slower than using one, and the gap search calls it often.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}
