/**
 * @module scripts/bench
 * The benchmark harness: `npm run bench` runs every suite in scripts/bench/*.ts,
 * `npm run bench -- history` only the ones named. A suite's default export receives
 * `report` and calls it once per measure; each measure prints as exactly one line,
 *
 *   bench <name>: <value> <unit> | <peer>: <value> <unit> | ratio <ours/peer>
 *
 * where the peer is what we compare against (the same work done the plain way) and a
 * name ending in `-lower-better` says which way is good. Benchmarks never fail the run: a
 * suite that throws is reported on stderr and the next one goes on; the exit code is 0.
 */
import { readdirSync } from "node:fs";
import { basename, join } from "node:path";

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  peer: { name: string; value: number; unit?: string };
}

export type Report = (result: BenchResult) => void;
export type Suite = (report: Report) => Promise<void> | void;

function figure(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  return abs >= 100 ? n.toFixed(0) : abs >= 1 ? n.toFixed(2) : n.toPrecision(3);
}

export function formatResult(r: BenchResult): string {
  const ratio = r.peer.value === 0 ? Infinity : r.value / r.peer.value;
  return `bench ${r.name}: ${figure(r.value)} ${r.unit} | ${r.peer.name}: ${figure(r.peer.value)} ${r.peer.unit ?? r.unit} | ratio ${figure(ratio)}`;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median wall time of `runs` calls of `fn`, in milliseconds, after one warm-up call. */
export async function timeMs(runs: number, fn: () => unknown): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

async function main(names: string[]): Promise<void> {
  const dir = join(import.meta.dir, "bench");
  const all = readdirSync(dir).filter((f) => f.endsWith(".ts")).sort();
  const chosen = names.length ? all.filter((f) => names.includes(basename(f, ".ts"))) : all;
  for (const name of names) if (!all.includes(`${name}.ts`)) console.error(`bench: no suite named "${name}" (have: ${all.map((f) => basename(f, ".ts")).join(", ")})`);
  for (const file of chosen) {
    const started = performance.now();
    try {
      const suite = (await import(join(dir, file))).default as Suite;
      await suite((r) => console.log(formatResult(r)));
      console.error(`bench: ${basename(file, ".ts")} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (err) {
      console.error(`bench: suite ${basename(file, ".ts")} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
}

if (import.meta.main) {
  await main(process.argv.slice(2).filter((a) => a !== "--"));
  process.exit(0);
}
