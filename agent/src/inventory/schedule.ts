/**
 * @module agent/inventory/schedule
 * When the next scheduled inventory runs. After a run the server accepted: at a random
 * time in a window one interval wide centred one interval later ([0.5, 1.5) intervals:
 * daily means 12 to 36 hours, a day on average), so that a fleet started together spreads
 * out and stays spread. After a failure: within the hour (a random time in [30, 90)
 * minutes, or half to one and a half intervals if that is shorter). A machine never
 * inventoried runs its first one within ten minutes (at least one after start). The due
 * time is kept in the state file, so a restart does not inventory again at once.
 */
export const HOUR_MS = 3_600_000;

export function nextAfterSuccess(now: number, intervalMs: number, random: () => number): number {
  return now + Math.round(intervalMs * (0.5 + random()));
}

export function nextAfterFailure(now: number, intervalMs: number, random: () => number): number {
  return now + Math.round(Math.min(intervalMs, HOUR_MS) * (0.5 + random()));
}

export function firstRun(now: number, intervalMs: number, everInventoried: boolean, random: () => number): number {
  if (everInventoried) return now + Math.round(intervalMs * random());
  const window = Math.min(intervalMs, 10 * 60_000);
  return now + Math.max(60_000, Math.round(window * random()));
}

/**
 * The due time to wait for, from the state's `nextAt`: a missing or unreadable one is
 * replaced by `firstRun`, and one further away than the schedule allows (the interval was
 * shortened, the clock moved back) by a fresh `nextAfterSuccess`.
 */
export function dueTime(nextAt: string | undefined, now: number, intervalMs: number, everInventoried: boolean, random: () => number): { at: number; fresh: boolean } {
  const at = nextAt ? Date.parse(nextAt) : Number.NaN;
  if (!Number.isFinite(at)) return { at: firstRun(now, intervalMs, everInventoried, random), fresh: true };
  if (at > now + intervalMs * 1.5) return { at: nextAfterSuccess(now, intervalMs, random), fresh: true };
  return { at, fresh: false };
}
