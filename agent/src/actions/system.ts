/**
 * @module agent/actions/system
 * The built-in system actions (SPEC X4): processes (list, kill), disk usage, netstat
 * (listening ports and connections), reboot and shutdown. Linux reads /proc and statfs
 * directly (no tool needed); macOS uses ps, df and netstat; Windows uses PowerShell's
 * Get-Process, Get-CimInstance and Get-NetTCPConnection. Parsers are pure functions over
 * text, tested with captured output.
 */
import { spawn } from "node:child_process";
import { readdir, readFile, readlink, statfs } from "node:fs/promises";
import { currentOs } from "./script.ts";

export interface ProcessInfo { pid: number; name: string; user: string; cpuSeconds: number; rssKb: number; command: string }
export interface FsInfo { mount: string; device: string; type: string; totalBytes: number; usedBytes: number; freeBytes: number }
export interface SocketInfo { proto: string; local: string; remote: string; state: string; pid?: number; process?: string }

function run(argv: string[], timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
    const out: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (c: Buffer) => {
      if ((size += c.length) <= 8 << 20) out.push(c);
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${argv[0]}: ${e.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${argv[0]} exited with ${code}`));
      else resolve(Buffer.concat(out).toString("utf8"));
    });
  });
}

const ps = (script: string) => run(["powershell.exe", "-NoProfile", "-NonInteractive", "-Command", script]);
const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n) : s);

// ---- processes -------------------------------------------------------------------------

/** One /proc/<pid>/stat line: the name is in parentheses and may itself hold spaces or ")". */
export function parseProcStat(text: string, ticksPerSecond = 100): { name: string; cpuSeconds: number; rssPages: number } | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state); utime is field 14, stime 15, rss 24.
  const utime = Number(rest[11]), stime = Number(rest[12]), rss = Number(rest[21]);
  if (![utime, stime, rss].every(Number.isFinite)) return null;
  return { name: text.slice(open + 1, close), cpuSeconds: (utime + stime) / ticksPerSecond, rssPages: rss };
}

async function linuxUsers(): Promise<Map<number, string>> {
  const map = new Map<number, string>();
  const text = await readFile("/etc/passwd", "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length >= 3 && /^\d+$/.test(f[2]!)) map.set(Number(f[2]), f[0]!);
  }
  return map;
}

async function linuxProcesses(): Promise<ProcessInfo[]> {
  const users = await linuxUsers();
  const list: ProcessInfo[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [stat, status, cmdline] = await Promise.all([
        readFile(`/proc/${entry}/stat`, "utf8"),
        readFile(`/proc/${entry}/status`, "utf8"),
        readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => ""),
      ]);
      const s = parseProcStat(stat);
      if (!s) continue;
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
      list.push({ pid: Number(entry), name: clip(s.name, 255), user: clip(users.get(uid) ?? String(uid), 64), cpuSeconds: Math.round(s.cpuSeconds * 100) / 100, rssKb: s.rssPages * 4, command: clip(cmdline.replace(/\0+$/, "").replace(/\0/g, " ") || `[${s.name}]`, 500) });
    } catch {
      // the process ended while we looked
    }
  }
  return list;
}

/** `ps -axo pid=,user=,time=,rss=,comm=` (macOS); time is [[dd-]hh:]mm:ss.ss. */
export function parsePs(text: string): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(.+)$/.exec(line);
    if (!m) continue;
    const [d, hms] = m[3]!.includes("-") ? m[3]!.split("-") : ["0", m[3]!];
    const secs = hms!.split(":").reverse().reduce((acc, part, i) => acc + Number(part) * 60 ** i, 0) + Number(d) * 86400;
    const cmd = m[5]!.trim();
    out.push({ pid: Number(m[1]), user: clip(m[2]!, 64), cpuSeconds: Number.isFinite(secs) ? secs : 0, rssKb: Number(m[4]), name: clip(cmd.split("/").pop() ?? cmd, 255), command: clip(cmd, 500) });
  }
  return out;
}

export async function listProcesses(limit = 200, os = currentOs()): Promise<{ processes: ProcessInfo[]; total: number }> {
  let all: ProcessInfo[];
  if (os === "linux") all = await linuxProcesses();
  else if (os === "darwin") all = parsePs(await run(["ps", "-axo", "pid=,user=,time=,rss=,comm="]));
  else if (os === "windows") {
    const rows = JSON.parse(await ps("Get-Process -IncludeUserName | Select-Object Id,ProcessName,UserName,@{n='Cpu';e={[double]$_.CPU}},@{n='Ws';e={[int64]($_.WorkingSet64/1024)}},Path | ConvertTo-Json -Compress")) as { Id: number; ProcessName: string; UserName: string | null; Cpu: number | null; Ws: number; Path: string | null }[];
    all = [rows].flat().map((r) => ({ pid: r.Id, name: clip(r.ProcessName, 255), user: clip(r.UserName ?? "", 64), cpuSeconds: Math.round((r.Cpu ?? 0) * 100) / 100, rssKb: r.Ws, command: clip(r.Path ?? r.ProcessName, 500) }));
  } else throw new Error(`processes are not supported on ${os}`);
  all.sort((a, b) => b.rssKb - a.rssKb || a.pid - b.pid);
  return { processes: all.slice(0, limit), total: all.length };
}

export async function killProcess(pid: number, force: boolean, os = currentOs()): Promise<{ killed: boolean; detail?: string }> {
  if (pid === process.pid) return { killed: false, detail: "refusing to end the agent itself" };
  try {
    if (os === "windows") await run(["taskkill.exe", "/PID", String(pid), ...(force ? ["/F"] : [])]);
    else process.kill(pid, force ? "SIGKILL" : "SIGTERM");
    return { killed: true };
  } catch (e) {
    const code = (e as { code?: string }).code;
    return { killed: false, detail: code === "ESRCH" ? `no process ${pid}` : code === "EPERM" ? `not allowed to end process ${pid}` : (e as Error).message.slice(0, 500) };
  }
}

// ---- disk usage ------------------------------------------------------------------------

const PSEUDO_FS = new Set(["proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs", "pstore", "bpf", "debugfs", "tracefs", "mqueue", "hugetlbfs", "configfs", "fusectl", "autofs", "binfmt_misc", "rpc_pipefs", "nsfs", "efivarfs", "squashfs", "overlay", "ramfs"]);

/** /proc/mounts lines of real file systems (octal escapes such as \040 decoded). */
export function parseMounts(text: string): { device: string; mount: string; type: string }[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const seen = new Set<string>();
  const out: { device: string; mount: string; type: string }[] = [];
  for (const line of text.split("\n")) {
    const [device, mount, type] = line.split(" ");
    if (!device || !mount || !type || PSEUDO_FS.has(type)) continue;
    const m = unescape(mount);
    if (seen.has(m) || m.startsWith("/proc") || m.startsWith("/sys") || (type === "tmpfs" && m !== "/tmp" && m !== "/dev/shm" && m !== "/run")) continue;
    seen.add(m);
    out.push({ device: unescape(device), mount: m, type });
  }
  return out;
}

/** `df -kP` (POSIX format, 1024-byte blocks), as on macOS. */
export function parseDfP(text: string): FsInfo[] {
  const out: FsInfo[] = [];
  for (const line of text.split("\n").slice(1)) {
    const m = /^(.+?)\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+%\s+(\/.*)$/.exec(line);
    if (!m) continue;
    out.push({ device: clip(m[1]!, 255), mount: clip(m[5]!, 500), type: "", totalBytes: Number(m[2]) * 1024, usedBytes: Number(m[3]) * 1024, freeBytes: Number(m[4]) * 1024 });
  }
  return out;
}

export async function diskUsage(os = currentOs()): Promise<{ filesystems: FsInfo[] }> {
  if (os === "linux") {
    const out: FsInfo[] = [];
    for (const m of parseMounts(await readFile("/proc/mounts", "utf8"))) {
      try {
        const s = await statfs(m.mount);
        const total = s.blocks * s.bsize;
        if (total === 0) continue;
        out.push({ mount: clip(m.mount, 500), device: clip(m.device, 255), type: m.type, totalBytes: total, usedBytes: (s.blocks - s.bfree) * s.bsize, freeBytes: s.bavail * s.bsize });
      } catch {
        // unreachable mount (stale network share): skipped
      }
    }
    return { filesystems: out.slice(0, 200) };
  }
  if (os === "darwin") return { filesystems: parseDfP(await run(["df", "-kP"])).slice(0, 200) };
  if (os === "windows") {
    const rows = JSON.parse(await ps("Get-CimInstance Win32_LogicalDisk | Where-Object { $_.Size } | Select-Object DeviceID,FileSystem,Size,FreeSpace,VolumeName | ConvertTo-Json -Compress")) as { DeviceID: string; FileSystem: string | null; Size: number; FreeSpace: number; VolumeName: string | null }[];
    return { filesystems: [rows].flat().map((r) => ({ mount: r.DeviceID, device: r.VolumeName ?? "", type: r.FileSystem ?? "", totalBytes: r.Size, usedBytes: r.Size - r.FreeSpace, freeBytes: r.FreeSpace })) };
  }
  throw new Error(`disk usage is not supported on ${os}`);
}

// ---- netstat ---------------------------------------------------------------------------

const TCP_STATES: Record<string, string> = { "01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING" };

/** A /proc/net address "0100007F:1F90" (IPv4, little-endian words) or its 32-hex IPv6 form. */
export function procAddress(hex: string): string {
  const [addr = "", port = "0"] = hex.split(":");
  const p = parseInt(port, 16);
  if (addr.length === 8) {
    const b = addr.match(/../g)!.map((h) => parseInt(h, 16)).reverse();
    return `${b.join(".")}:${p}`;
  }
  if (addr.length === 32) {
    const words = addr.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(""));
    const groups = words.join("").match(/.{4}/g)!.map((g) => parseInt(g, 16).toString(16));
    const s = groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::").replace(/:{3,}/, "::");
    return `[${s}]:${p}`;
  }
  return `?:${p}`;
}

/** The rows of /proc/net/{tcp,tcp6,udp,udp6}, with each socket's inode. */
export function parseProcNet(text: string, proto: string): (SocketInfo & { inode: number })[] {
  const out: (SocketInfo & { inode: number })[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const state = proto.startsWith("tcp") ? (TCP_STATES[f[3]!] ?? f[3]!) : f[3] === "07" ? "UNCONN" : "ESTABLISHED";
    out.push({ proto, local: procAddress(f[1]!), remote: procAddress(f[2]!), state, inode: Number(f[9]) });
  }
  return out;
}

async function socketOwners(): Promise<Map<number, { pid: number; name: string }>> {
  const owners = new Map<number, { pid: number; name: string }>();
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const fds = await readdir(`/proc/${entry}/fd`).catch(() => [] as string[]);
    let name: string | null = null;
    for (const fd of fds) {
      const link = await readlink(`/proc/${entry}/fd/${fd}`).catch(() => "");
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (!m) continue;
      name ??= (await readFile(`/proc/${entry}/comm`, "utf8").catch(() => "")).trim();
      owners.set(Number(m[1]), { pid: Number(entry), name });
    }
  }
  return owners;
}

const MAX_SOCKETS = 1000;

export async function netstat(os = currentOs()): Promise<{ sockets: SocketInfo[]; truncated?: boolean }> {
  let sockets: SocketInfo[];
  if (os === "linux") {
    const owners = await socketOwners();
    const rows: SocketInfo[] = [];
    for (const proto of ["tcp", "tcp6", "udp", "udp6"]) {
      const text = await readFile(`/proc/net/${proto}`, "utf8").catch(() => "");
      for (const r of parseProcNet(text, proto)) {
        const o = owners.get(r.inode);
        rows.push({ proto: r.proto, local: r.local, remote: r.remote, state: r.state, ...(o && { pid: o.pid, process: clip(o.name, 255) }) });
      }
    }
    sockets = rows;
  } else if (os === "darwin") {
    sockets = [];
    for (const line of (await run(["netstat", "-an", "-p", "tcp"])).concat(await run(["netstat", "-an", "-p", "udp"])).split("\n")) {
      const m = /^(tcp\d*|udp\d*)\s+\d+\s+\d+\s+(\S+)\s+(\S+)\s*(\S*)/.exec(line);
      if (m) sockets.push({ proto: m[1]!, local: m[2]!, remote: m[3]!, state: m[4] || "" });
    }
  } else if (os === "windows") {
    const rows = JSON.parse(await ps("Get-NetTCPConnection | Select-Object LocalAddress,LocalPort,RemoteAddress,RemotePort,@{n='State';e={[string]$_.State}},OwningProcess | ConvertTo-Json -Compress")) as { LocalAddress: string; LocalPort: number; RemoteAddress: string; RemotePort: number; State: string; OwningProcess: number }[];
    sockets = [rows].flat().map((r) => ({ proto: "tcp", local: `${r.LocalAddress}:${r.LocalPort}`, remote: `${r.RemoteAddress}:${r.RemotePort}`, state: r.State.toUpperCase(), pid: r.OwningProcess }));
  } else throw new Error(`netstat is not supported on ${os}`);
  // Listening sockets first: what an admin looks for most.
  sockets.sort((a, b) => Number(b.state === "LISTEN" || b.state === "UNCONN") - Number(a.state === "LISTEN" || a.state === "UNCONN"));
  return sockets.length > MAX_SOCKETS ? { sockets: sockets.slice(0, MAX_SOCKETS), truncated: true } : { sockets };
}

// ---- power -----------------------------------------------------------------------------

export function powerCommand(op: "reboot" | "shutdown", delaySeconds: number, os = currentOs()): string[] {
  const minutes = Math.ceil(delaySeconds / 60);
  if (os === "windows") return ["shutdown.exe", op === "reboot" ? "/r" : "/s", "/t", String(delaySeconds), "/c", "Medulla"];
  if (os === "darwin") return ["shutdown", op === "reboot" ? "-r" : "-h", minutes ? `+${minutes}` : "now"];
  return ["shutdown", op === "reboot" ? "-r" : "-h", minutes ? `+${minutes}` : "now"];
}

/**
 * Starts the reboot or power-off a moment after answering, so that the reply reaches the
 * server first. `MEDULLA_AGENT_POWER_DRYRUN=1` (tests) only reports what it would run.
 */
export async function power(op: "reboot" | "shutdown", delaySeconds = 0, os = currentOs()): Promise<{ accepted: boolean; detail?: string }> {
  const argv = powerCommand(op, delaySeconds, os);
  if (process.env.MEDULLA_AGENT_POWER_DRYRUN === "1") return { accepted: true, detail: `dry run: ${argv.join(" ")}` };
  setTimeout(() => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: "ignore", detached: true, windowsHide: true });
    child.on("error", () => undefined);
    child.unref();
  }, 1000);
  return { accepted: true, detail: argv.join(" ") };
}
