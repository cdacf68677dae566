/**
 * @module agent/inventory/linux/block
 * Disks and file systems on Linux. `lsblk -J -b -o NAME,SIZE,TYPE,MODEL,SERIAL,VENDOR,TRAN,
 * MOUNTPOINT,FSTYPE,LABEL` gives the physical disks (`storages`) and the labels of mounted
 * file systems; util-linux before 2.33 prints every value as a string, later ones numbers
 * and booleans, so both are read. `df -P -k -T` gives the mounted file systems (`drives`),
 * without the kernel's pseudo file systems (tmpfs, proc, overlay, squashfs of snaps, …).
 */
import type { Drive, Storage, Warn } from "../format.ts";
import { diskMaker } from "../names.ts";
import { compact, int, mbDecimal, parseJsonOr, str } from "../values.ts";

interface BlockDevice {
  name?: string;
  size?: number | string | null;
  type?: string | null;
  model?: string | null;
  serial?: string | null;
  vendor?: string | null;
  tran?: string | null;
  mountpoint?: string | null;
  fstype?: string | null;
  label?: string | null;
  children?: BlockDevice[];
}

const INTERFACES: Record<string, string> = { sata: "SATA", ata: "IDE", nvme: "NVMe", usb: "USB", sas: "SAS", scsi: "SCSI", fc: "FC", iscsi: "iSCSI", mmc: "MMC", virtio: "virtio" };

/** Vendors that say nothing: the SATA layer's "ATA", virtio's PCI vendor id. */
const USELESS_VENDOR = /^(ata|0x[0-9a-f]+|nvme|generic)$/i;

function flatten(devices: BlockDevice[]): BlockDevice[] {
  return devices.flatMap((d) => [d, ...flatten(d.children ?? [])]);
}

function readLsblk(json: string | undefined, warn: Warn): BlockDevice[] {
  const doc = parseJsonOr<{ blockdevices?: unknown } | null>(json, null, warn, "lsblk");
  if (!doc) return [];
  if (!Array.isArray(doc.blockdevices)) {
    warn("lsblk: no blockdevices list");
    return [];
  }
  return doc.blockdevices as BlockDevice[];
}

export function parseLsblkStorages(json: string | undefined, warn: Warn): Storage[] {
  return readLsblk(json, warn)
    .filter((d) => (d.type === "disk" || d.type === "rom") && !/^(zram|loop|ram)\d/.test(d.name ?? ""))
    .filter((d) => d.type === "rom" || (int(d.size) ?? 0) > 0)
    .map((d) => {
      const model = str(d.model);
      const vendor = str(d.vendor);
      const tran = str(d.tran)?.toLowerCase() ?? (/^vd[a-z]/.test(d.name ?? "") ? "virtio" : undefined);
      return compact<Storage>({
        name: str(d.name),
        model,
        manufacturer: (vendor && !USELESS_VENDOR.test(vendor) ? vendor : undefined) ?? diskMaker(model) ?? (tran === "virtio" ? "Virtio" : undefined),
        serial: str(d.serial),
        interface: tran ? (INTERFACES[tran] ?? tran.toUpperCase()) : undefined,
        type: d.type === "rom" ? "cdrom" : "disk",
        disksize: mbDecimal(int(d.size)),
      });
    });
}

/** Labels of mounted file systems, by mount point and by device name. */
export function lsblkLabels(json: string | undefined): Map<string, string> {
  const labels = new Map<string, string>();
  for (const d of flatten(readLsblk(json, () => undefined))) {
    const label = str(d.label);
    if (!label) continue;
    if (d.mountpoint) labels.set(d.mountpoint, label);
    if (d.name) labels.set(`/dev/${d.name}`, label);
  }
  return labels;
}

const PSEUDO_FS = new Set([
  "tmpfs", "devtmpfs", "ramfs", "squashfs", "overlay", "aufs", "proc", "sysfs", "devpts", "cgroup", "cgroup2", "mqueue", "debugfs",
  "tracefs", "securityfs", "pstore", "bpf", "efivarfs", "autofs", "hugetlbfs", "configfs", "fusectl", "binfmt_misc", "nsfs",
  "rpc_pipefs", "selinuxfs", "fuse.gvfsd-fuse", "fuse.portal", "fuse.snapfuse", "fuse.lxcfs", "fuse.xdg-document-portal", "none",
]);

/** `df -P -k -T`: Filesystem Type 1024-blocks Used Available Capacity Mounted-on (the mount point may hold spaces). */
export function parseDf(text: string | undefined, labels: Map<string, string>, warn: Warn): Drive[] {
  const lines = (text ?? "").split(/\r?\n/).filter((l) => l.trim());
  if (!lines.length) return [];
  if (!/^Filesystem\s+Type\s+1024-blocks/i.test(lines[0]!)) {
    warn("df: unexpected header, expected `df -P -k -T` output");
    return [];
  }
  const drives: Drive[] = [];
  const seen = new Set<string>();
  for (const line of lines.slice(1)) {
    const m = /^(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+%\s+(\/.*)$/.exec(line);
    if (!m) {
      warn(`df: skipped an unreadable line: ${line.slice(0, 80)}`);
      continue;
    }
    const [, device, fstype, total, , avail, mount] = m as unknown as string[];
    if (PSEUDO_FS.has(fstype!) || (!device!.startsWith("/") && !device!.includes(":") && !device!.startsWith("//"))) continue;
    // A file system mounted twice on the same point (stacked mounts) is listed once.
    if (seen.has(`${device}\0${mount}`)) continue;
    seen.add(`${device}\0${mount}`);
    drives.push(
      compact<Drive>({
        volumn: device,
        type: mount,
        filesystem: fstype,
        label: labels.get(mount!) ?? labels.get(device!),
        total: Math.floor(Number(total) / 1024),
        free: Math.floor(Number(avail) / 1024),
      }),
    );
  }
  return drives;
}
