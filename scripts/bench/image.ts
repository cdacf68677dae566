/**
 * @module scripts/bench/image
 * The appliance images (`npm run bench -- image`, as root, with qemu): uses
 * dist/medulla-amd64.qcow2 and .iso (built with `npm run image` first when absent) and prints
 *   - the sizes of the qcow2 and the ISO beside the bare Debian base system they are built on
 *     (the cached debootstrap result, zstd: what Medulla and its boot machinery add);
 *   - the qcow2's boot under qemu TCG, from qemu's start to the first HTTP 200 of /healthz,
 *     beside the same boot to the console (the moment a bare Debian would show its login
 *     prompt: the console menu replaces getty and starts at the same point);
 *   - the idle memory of the medulla process after boot, beside the rest of the system.
 * Skipped (one line on stderr) when not root or qemu is missing.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Vm } from "../../test/e2e/vm.ts";
import type { Report } from "../bench.ts";

const root = join(import.meta.dir, "..", "..");
const qcow2 = join(root, "dist", "medulla-amd64.qcow2");
const iso = join(root, "dist", "medulla-amd64.iso");
const cache = process.env.MEDULLA_IMAGE_CACHE ?? "/var/cache/medulla-image";
const MiB = (n: number) => n / 1048576;

export default async function image(report: Report): Promise<void> {
  if (process.getuid?.() !== 0 || !Bun.which("qemu-system-x86_64")) {
    console.error("bench image: skipped (needs root and qemu-system-x86_64)");
    return;
  }
  if (!existsSync(qcow2) || !existsSync(iso)) {
    const build = Bun.spawnSync(["bash", "appliance/build-image.sh"], { cwd: root, stdout: "inherit", stderr: "inherit" });
    if (build.exitCode !== 0) throw new Error("npm run image failed");
  }
  const base = existsSync(cache) ? readdirSync(cache).filter((f) => f.startsWith("base-bookworm-") && f.endsWith(".tar.zst")).map((f) => join(cache, f)) : [];
  const baseSize = base.length ? MiB(statSync(base[0]!).size) : NaN;
  report({ name: "image-qcow2-size-lower-better", value: MiB(statSync(qcow2).size), unit: "MiB", peer: { name: "debian-base-tar-zst", value: baseSize } });
  report({ name: "image-iso-size-lower-better", value: MiB(statSync(iso).size), unit: "MiB", peer: { name: "debian-base-tar-zst", value: baseSize } });

  const work = mkdtempSync(join(tmpdir(), "medulla-bench-image-"));
  try {
    const disk = join(work, "disk.qcow2");
    Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", qcow2, disk]);
    await using vm = await Vm.start({ disk });
    await vm.waitSerial(/medulla console started on \/dev\/ttyS0/, 600_000);
    const consoleAt = vm.elapsed();
    const httpAt = await vm.waitHttp("/healthz", 200, 300_000);
    report({ name: "image-boot-to-http-200-lower-better", value: httpAt, unit: "s", peer: { name: "same-debian-boot-to-console", value: consoleAt } });
    await vm.waitSerial(/Choice: /, 120_000);
    await Bun.sleep(20_000); // let the first-start work (certificates, migrations) settle
    const { output } = await vm.shell("ps -o rss= -C medulla; grep -E '^(MemTotal|MemAvailable):' /proc/meminfo");
    const rss = Number(output.trim().split("\n")[0]) / 1024;
    const total = Number(output.match(/MemTotal:\s+(\d+)/)?.[1]) / 1024;
    const available = Number(output.match(/MemAvailable:\s+(\d+)/)?.[1]) / 1024;
    report({ name: "image-idle-medulla-rss-lower-better", value: rss, unit: "MiB", peer: { name: "rest-of-the-system-used", value: total - available - rss } });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
