/**
 * @module scripts/bench/xmpp/proc
 * Child processes for the xmpp suite: spawn with a raised open-file limit, read stdout and
 * stderr line by line, talk to a control channel (one command line on stdin, one JSON line
 * back on stdout), and read what the kernel says about a process (RSS, CPU ticks) from
 * /proc, so both servers are measured the same way. Every wait has a deadline.
 */
import { readFileSync } from "node:fs";
import type { Subprocess } from "bun";

/** Open files allowed to each child: the machine's hard limit is 20,000 per process. */
export const NOFILE = 20_000;

const live = new Set<Subprocess>();

/** SIGKILLs every child still running (the suite interrupted): none outlives the run. */
export function killAll(): void {
  for (const p of live) p.kill("SIGKILL");
  live.clear();
}

export interface Child {
  proc: Subprocess<"pipe", "pipe", "pipe">;
  pid: number;
  /** Every stdout line so far (the control answers are taken from it). */
  lines: string[];
  /** The last stderr lines, for error messages. */
  errTail: string[];
  /** Resolves with the next stdout line matching `test`, or rejects after `ms`. */
  waitLine(test: (line: string) => boolean, ms: number, what: string): Promise<string>;
  /** Sends a command and resolves with the next JSON line on stdout. */
  command<T = Record<string, unknown>>(line: string, ms: number): Promise<T>;
  /** SIGTERM, then SIGKILL after `ms`; resolves with the exit code. */
  stop(ms?: number): Promise<number | null>;
}

async function pump(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let rest = "";
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    rest += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      onLine(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
  }
  if (rest) onLine(rest);
}

/**
 * Spawns `cmd` under `prlimit --nofile` (soft = hard = NOFILE). `onErr` sees each stderr
 * line (progress); `label` prefixes errors.
 */
export function spawnChild(cmd: string[], options: { label: string; cwd?: string; env?: Record<string, string | undefined>; onErr?: (line: string) => void }): Child {
  const prlimit = Bun.which("prlimit");
  const argv = prlimit ? [prlimit, `--nofile=${NOFILE}:${NOFILE}`, "--", ...cmd] : cmd;
  const proc = Bun.spawn(argv, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  live.add(proc);
  void proc.exited.then(() => live.delete(proc));
  const lines: string[] = [];
  const errTail: string[] = [];
  // Lines before `cursor` were taken by a waiter or skipped by one: each line answers one wait.
  let cursor = 0;
  const waiters: { test: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  const onOut = (line: string) => {
    lines.push(line);
    const w = waiters.find((w) => w.test(line));
    if (!w) return;
    waiters.splice(waiters.indexOf(w), 1);
    cursor = lines.length;
    w.resolve(line);
  };
  void pump(proc.stdout, onOut);
  void pump(proc.stderr, (line) => {
    errTail.push(line);
    if (errTail.length > 40) errTail.shift();
    options.onErr?.(line);
  });
  const describe = () => `${options.label} (pid ${proc.pid}${proc.exitCode !== null ? `, exited ${proc.exitCode}` : ""}); its last stderr:\n  ${errTail.slice(-10).join("\n  ")}`;
  const waitLine = (test: (l: string) => boolean, ms: number, what: string) =>
    new Promise<string>((resolve, reject) => {
      // A line that came before anyone waited for it (two lines in one chunk).
      const early = lines.findIndex((l, i) => i >= cursor && test(l));
      if (early >= 0) {
        cursor = early + 1;
        return resolve(lines[early]!);
      }
      const w = { test, resolve: (l: string) => (clearTimeout(timer), resolve(l)) };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(new Error(`timed out after ${ms / 1000} s waiting for ${what} from ${describe()}`));
      }, ms);
      waiters.push(w);
      void proc.exited.then(() => {
        // Let the last lines drain before calling it a death.
        setTimeout(() => {
          if (!waiters.includes(w)) return;
          waiters.splice(waiters.indexOf(w), 1);
          clearTimeout(timer);
          reject(new Error(`${what}: ${describe()}`));
        }, 200);
      });
    });
  return {
    proc,
    pid: proc.pid,
    lines,
    errTail,
    waitLine,
    async command<T>(line: string, ms: number) {
      const answer = waitLine((l) => l.startsWith("{"), ms, `an answer to "${line}"`);
      proc.stdin.write(`${line}\n`);
      proc.stdin.flush();
      return JSON.parse(await answer) as T;
    },
    async stop(ms = 5_000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), ms);
      const code = await proc.exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Resident set size in bytes, from /proc (0 once the process is gone). */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** User + system CPU time in clock ticks (1/100 s on Linux). */
export function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

/** Busy CPU time of the whole machine (all cores, user + system + irq…), in clock ticks. */
export function machineBusyTicks(): number {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice: guest time is already
    // in user and nice, steal is the hypervisor's.
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = f;
    return user + nice + system + irq + softirq;
  } catch {
    return 0;
  }
}

/**
 * Waits (at most `maxMs`) for the machine to be nearly idle: less than `busy` cores used by
 * anything over `windowMs`. Call it while none of the benchmark's processes run. Returns
 * the cores last seen busy.
 */
export async function waitMachineQuiet(options: { windowMs?: number; busy?: number; maxMs?: number } = {}): Promise<number> {
  const { windowMs = 2_000, busy = 0.2, maxMs = 60_000 } = options;
  const started = performance.now();
  let cores = Infinity;
  while (performance.now() - started < maxMs) {
    const before = machineBusyTicks();
    await Bun.sleep(windowMs);
    cores = (machineBusyTicks() - before) / 100 / (windowMs / 1000);
    if (cores < busy) break;
  }
  return cores;
}

/**
 * Waits until every process has used less than `busy` of a core over `windowMs`
 * (a client still pinging, a server still collecting garbage), at most `maxMs`.
 * Returns the time waited.
 */
export async function waitQuiet(pids: number[], options: { windowMs?: number; busy?: number; maxMs?: number } = {}): Promise<number> {
  const { windowMs = 1_000, busy = 0.1, maxMs = 30_000 } = options;
  const started = performance.now();
  let before = pids.map(cpuTicks);
  while (performance.now() - started < maxMs) {
    await Bun.sleep(windowMs);
    const now = pids.map(cpuTicks);
    const worst = Math.max(...now.map((t, i) => (t - before[i]!) / 100 / (windowMs / 1000)));
    before = now;
    if (worst < busy) break;
  }
  return performance.now() - started;
}

/** Nearest-rank p50, p95 and max (NaN when empty). */
export function summarize(values: readonly number[]): { samples: number; p50: number; p95: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]! : NaN);
  return { samples: s.length, p50: at(50), p95: at(95), max: at(100) };
}
