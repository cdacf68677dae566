/**
 * @module agent/inventory/linux/proc
 * Parsers for /proc/cpuinfo (one GLPI `cpus` entry per physical package), /proc/meminfo
 * (memory and swap in MiB) and /proc/uptime. x86 kernels print `model name`, `physical
 * id`, `cpu cores` and `siblings`; ARM kernels print `CPU implementer`/`CPU part` and
 * sometimes a `Model` line for the board. The speed is the one printed in the model name
 * ("@ 2.30GHz") or the maximum frequency from cpufreq, never the current `cpu MHz`, which
 * moves with the load and would make every inventory look changed.
 */
import type { Cpu } from "../format.ts";
import { speedFromName } from "../names.ts";
import { compact, int, str } from "../values.ts";

type Block = Record<string, string>;

function blocks(text: string): Block[] {
  const out: Block[] = [];
  let cur: Block = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^([^:]+?)\s*:\s?(.*)$/.exec(line);
    if (!m) {
      if (Object.keys(cur).length) out.push(cur);
      cur = {};
      continue;
    }
    cur[m[1]!.trim().toLowerCase()] = m[2]!.trim();
  }
  if (Object.keys(cur).length) out.push(cur);
  return out;
}

const VENDORS: Record<string, string> = { GenuineIntel: "Intel", AuthenticAMD: "AMD", HygonGenuine: "Hygon", CentaurHauls: "Centaur" };
/** ARM "CPU implementer" codes (arch/arm64 cputype.h). */
const ARM_IMPLEMENTERS: Record<string, string> = { "0x41": "ARM", "0x42": "Broadcom", "0x43": "Cavium", "0x46": "Fujitsu", "0x48": "HiSilicon", "0x4e": "NVIDIA", "0x50": "APM", "0x51": "Qualcomm", "0x61": "Apple", "0xc0": "Ampere" };
const ARM_PARTS: Record<string, string> = { "0xd03": "Cortex-A53", "0xd07": "Cortex-A57", "0xd08": "Cortex-A72", "0xd0b": "Cortex-A76", "0xd0c": "Neoverse-N1", "0xd40": "Neoverse-V1", "0xd49": "Neoverse-N2", "0xac3": "Ampere-1" };

/**
 * @param arch `uname -m`, which /proc/cpuinfo does not print on x86.
 * @param maxFreqKhz /sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq, when present.
 */
export function parseCpuinfo(text: string, arch?: string, maxFreqKhz?: string): Cpu[] {
  const procs = blocks(text).filter((b) => "processor" in b && /^\d+$/.test(b.processor!));
  if (!procs.length) return [];
  const board = blocks(text).find((b) => !("processor" in b) && (b.model || b.hardware));
  const byPackage = new Map<string, Block[]>();
  for (const p of procs) {
    const id = p["physical id"] ?? "0";
    byPackage.set(id, [...(byPackage.get(id) ?? []), p]);
  }
  const fallbackSpeed = int(maxFreqKhz) ? Math.round(int(maxFreqKhz)! / 1000) : undefined;
  return [...byPackage.entries()]
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, list]) => {
      const first = list[0]!;
      const implementer = first["cpu implementer"]?.toLowerCase();
      const part = first["cpu part"]?.toLowerCase();
      const armName = implementer ? [ARM_IMPLEMENTERS[implementer], (part && ARM_PARTS[part]) ?? part].filter(Boolean).join(" ") : undefined;
      const name = str(first["model name"]) ?? (armName || undefined) ?? str(board?.model) ?? str(board?.hardware);
      const coreIds = new Set(list.map((p) => p["core id"]).filter((x) => x !== undefined));
      const core = int(first["cpu cores"]) ?? (coreIds.size || list.length);
      return compact<Cpu>({
        name,
        manufacturer: VENDORS[first.vendor_id ?? ""] ?? (implementer ? ARM_IMPLEMENTERS[implementer] : undefined) ?? str(first.vendor_id),
        arch: str(arch),
        core,
        thread: int(first.siblings) ?? list.length,
        speed: speedFromName(name) ?? fallbackSpeed ?? (first["cpu mhz"] ? Math.round(Number(first["cpu mhz"])) : undefined),
        familynumber: str(first["cpu family"]),
        model: str(first.model),
        stepping: int(first.stepping),
        cache: str(first["cache size"]?.replace(/\s*KB$/i, "")),
      });
    });
}

/** MemTotal and SwapTotal (kB in /proc/meminfo) in MiB. */
export function parseMeminfo(text: string): { memory?: number; swap?: number } {
  const kb = (k: string) => {
    const m = new RegExp(`^${k}:\\s*(\\d+)\\s*kB`, "mi").exec(text);
    return m ? Math.floor(Number(m[1]) / 1024) : undefined;
  };
  return compact({ memory: kb("MemTotal"), swap: kb("SwapTotal") });
}

/** Seconds since boot, from /proc/uptime ("3385.57 3998.35"). */
export function parseUptime(text: string | undefined): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s/.exec(`${text ?? ""} `);
  return m ? Math.floor(Number(m[1])) : undefined;
}
