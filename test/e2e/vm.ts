/**
 * @module test/e2e/vm
 * A qemu virtual machine for the appliance image tests (TCG: KVM does not work on these
 * machines): serial console on stdin/stdout (read as a growing log, written to by `type`),
 * user-mode network with the appliance's HTTP and HTTPS ports forwarded to loopback. The
 * virtual CPU is a Nehalem (x86-64-v2, no AVX): what hypervisors offer by default, and what
 * the image's baseline binaries must run on.
 */
import type { Subprocess } from "bun";
import { existsSync } from "node:fs";
import { freePort } from "./helpers.ts";

export const OVMF = ["/usr/share/ovmf/OVMF.fd", "/usr/share/OVMF/OVMF_CODE.fd"].find((f) => existsSync(f));

export interface VmOptions {
  disk?: string;
  cdrom?: string;
  uefi?: boolean;
  memoryMiB?: number;
}

/** The console menu's entries (appliance/rootfs/usr/lib/medulla/console). */
export const MENU = { network: "1", names: "2", resetPassword: "3", logs: "4", upgrade: "5", install: "6", shell: "7", reboot: "8", shutdown: "9" } as const;

export class Vm implements AsyncDisposable {
  serial = "";
  /** Where `next` looks from: the end of its last match, or where `mark` put it. */
  cursor = 0;
  readonly startedAt = performance.now();
  private proc: Subprocess<"pipe", "pipe", "inherit">;

  private constructor(
    readonly httpPort: number,
    readonly httpsPort: number,
    opts: VmOptions,
  ) {
    const args = [
      "qemu-system-x86_64", "-accel", "tcg", "-cpu", "Nehalem", "-smp", "2", "-m", String(opts.memoryMiB ?? 1024),
      "-nographic", "-monitor", "none", "-serial", "stdio",
      "-nic", `user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:${httpPort}-:80,hostfwd=tcp:127.0.0.1:${httpsPort}-:443`,
    ];
    if (opts.disk) args.push("-drive", `file=${opts.disk},if=virtio,format=qcow2`);
    if (opts.cdrom) args.push("-cdrom", opts.cdrom, "-boot", "d");
    if (opts.uefi) args.push("-bios", OVMF!);
    const proc = Bun.spawn(args, { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    this.proc = proc;
    void (async () => {
      const decoder = new TextDecoder();
      const reader = proc.stdout.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.serial += decoder.decode(value, { stream: true });
      }
    })();
  }

  static async start(opts: VmOptions): Promise<Vm> {
    return new Vm(await freePort("127.0.0.1"), await freePort("127.0.0.1"), opts);
  }

  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  /** Seconds since qemu started. */
  elapsed(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  /** Types text on the serial console (a newline is Enter). */
  type(text: string): void {
    this.proc.stdin.write(text);
    this.proc.stdin.flush();
  }

  /** Waits for `pattern` in the serial output after `from` (an offset in `serial`). */
  async waitSerial(pattern: RegExp, timeoutMs: number, from = 0): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.serial.slice(from).match(pattern);
      if (m) return m;
      if (this.exited) throw new Error(`qemu exited while waiting for ${pattern}; serial tail:\n${this.serial.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} on the serial console within ${timeoutMs / 1000} s; tail:\n${this.serial.slice(-3000)}`);
      await Bun.sleep(250);
    }
  }

  /** Prints one progress line: the seconds since qemu started and what comes next (long tests). */
  step(what: string): void {
    console.log(`[vm ${this.elapsed().toFixed(0).padStart(5)} s] ${what}`);
  }

  /** Moves `cursor` to the end of what the console printed so far. */
  mark(): void {
    this.cursor = this.serial.length;
  }

  /** Waits for `pattern` after `cursor`, then moves `cursor` past the match (console dialogues). */
  async next(pattern: RegExp, timeoutMs = 120_000): Promise<RegExpMatchArray> {
    const m = await this.waitSerial(pattern, timeoutMs, this.cursor);
    this.cursor += m.index! + m[0].length;
    return m;
  }

  /** Waits for qemu to exit by itself (the guest powered off). */
  async waitExit(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.exited) {
      if (Date.now() > deadline) throw new Error(`qemu still running after ${timeoutMs / 1000} s; serial tail:\n${this.serial.slice(-3000)}`);
      await Bun.sleep(500);
    }
  }

  /** Polls `url` on the forwarded port until it answers `status`; returns the seconds since qemu started. */
  async waitHttp(path: string, status: number, timeoutMs: number, https = false): Promise<number> {
    const url = `${https ? "https" : "http"}://127.0.0.1:${https ? this.httpsPort : this.httpPort}${path}`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const res = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(3000), tls: { rejectUnauthorized: false } });
        await res.arrayBuffer();
        if (res.status === status) return this.elapsed();
      } catch {
        // not up yet
      }
      if (this.exited) throw new Error(`qemu exited while waiting for ${url}; serial tail:\n${this.serial.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`${url} did not answer ${status} within ${timeoutMs / 1000} s; serial tail:\n${this.serial.slice(-3000)}`);
      await Bun.sleep(500);
    }
  }

  /**
   * Runs a shell command as root through the console menu's shell (MENU.shell) and returns its
   * output and exit code. The menu must be showing.
   */
  async shell(command: string, timeoutMs = 120_000): Promise<{ output: string; code: number }> {
    const id = Math.random().toString(36).slice(2, 8);
    const from = this.serial.length;
    this.type(`${MENU.shell}\n`);
    await this.waitSerial(/exit returns to this menu/, 20_000, from);
    await Bun.sleep(1000);
    const start = this.serial.length;
    // The markers are split in the typed text so that the echo of the command never matches.
    this.type(`stty -echo; echo "BEGIN"'-${id}'; ( ${command} ) 2>&1; echo "END"'-${id}-'$?; exit\n`);
    const m = await this.waitSerial(new RegExp(`BEGIN-${id}\\r?\\n([\\s\\S]*?)END-${id}-(\\d+)`), timeoutMs, start);
    await this.waitSerial(/Choice: /, 30_000, start);
    return { output: m[1]!.replace(/\r/g, ""), code: Number(m[2]) };
  }

  async stop(): Promise<void> {
    if (!this.exited) this.proc.kill("SIGKILL");
    await this.proc.exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
