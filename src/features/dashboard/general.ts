/**
 * @module dashboard/general
 * Figures for the General widget: host name, system, uptime, load and memory. Memory
 * "used" follows the kernel's MemAvailable (what `free` shows), not MemFree, which
 * counts the page cache as used.
 */
import { readFileSync } from "node:fs";
import { freemem, hostname, loadavg, release, totalmem, type as osType, uptime } from "node:os";
import type { GeneralStats } from "../../../views/dashboard/general-widget.tsx";

function osName(): string {
  try {
    const text = readFileSync("/etc/os-release", "utf8");
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1];
    if (pretty) return `${pretty} (${release()})`;
  } catch {
    // not Linux, or no os-release: fall back to the kernel's name
  }
  return `${osType()} ${release()}`;
}

/** Parses /proc/meminfo's MemTotal and MemAvailable (kB) into bytes. */
export function parseMeminfo(text: string): { total: number; available: number } | null {
  const total = /^MemTotal:\s+(\d+) kB/m.exec(text)?.[1];
  const available = /^MemAvailable:\s+(\d+) kB/m.exec(text)?.[1];
  if (!total || !available) return null;
  return { total: Number(total) * 1024, available: Number(available) * 1024 };
}

let cachedOs: string | undefined;

export function generalStats(version: string): GeneralStats {
  cachedOs ??= osName();
  let total = totalmem();
  let free = freemem();
  try {
    const mem = parseMeminfo(readFileSync("/proc/meminfo", "utf8"));
    if (mem) ({ total, available: free } = mem);
  } catch {
    // no /proc: node's figures will do
  }
  return {
    hostname: hostname(),
    os: cachedOs,
    version,
    uptimeSeconds: Math.floor(uptime()),
    load: loadavg(),
    ram: { total, free, used: total - free },
  };
}
