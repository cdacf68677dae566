#!/usr/bin/env bash
# Builds the Medulla appliance images from Debian packages only (run as root):
#   dist/medulla-<version>-amd64.qcow2  a disk for hypervisors (BIOS and UEFI)
#   dist/medulla-<version>-amd64.iso    a hybrid ISO (BIOS and UEFI, USB stick) running the live
#                                       system, with "Install to disk" in its console menu
# Both hold a minimal Debian bookworm, dist/medulla, the agents of dist/agent/, Debian's iPXE
# boot files and the systemd units of appliance/rootfs/. See docs/appliance.md.
#
# Options (or variables):
#   --only qcow2|iso           build one of the two (MEDULLA_IMAGE_ONLY)
#   --cache DIR                package and base-system cache (MEDULLA_IMAGE_CACHE,
#                              default /var/cache/medulla-image); --no-cache: none
#   --mirror URL               Debian mirror (MEDULLA_IMAGE_MIRROR, default http://deb.debian.org/debian)
#   --out DIR                  where the images go (default dist/)
#   --disk-size SIZE           the qcow2's virtual size (default 8G)
#   --skip-build               use dist/ as it is (default: build it first, for any x86-64-v2
#                              CPU: `bun scripts/build.ts --baseline`)
#   --release                  npm run build:release first: the image then offers the agents
#                              for every OS on its enrollment page (it ships dist/agent/*)
set -euo pipefail
umask 022
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=appliance/lib.sh
. "$here/lib.sh"

only="${MEDULLA_IMAGE_ONLY:-}"
cache="${MEDULLA_IMAGE_CACHE-/var/cache/medulla-image}"
mirror="${MEDULLA_IMAGE_MIRROR:-http://deb.debian.org/debian}"
out="$repo/dist"
disk_size="8G"
skip_build=0
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only="$2"; shift 2 ;;
    --cache) cache="$2"; shift 2 ;;
    --no-cache) cache=""; shift ;;
    --mirror) mirror="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --disk-size) disk_size="$2"; shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    --release) skip_build=release; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "build-image: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$only" in ""|qcow2|iso) ;; *) echo "build-image: --only takes qcow2 or iso" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "build-image: run as root (debootstrap, loop devices, chroot)" >&2; exit 1; }
for tool in debootstrap sfdisk mkfs.ext4 mkfs.vfat qemu-img grub-install xorriso mksquashfs mcopy losetup zstd; do
  command -v "$tool" >/dev/null || { echo "build-image: $tool is missing (apt-get install debootstrap fdisk e2fsprogs dosfstools qemu-utils grub-pc-bin grub-efi-amd64-bin xorriso squashfs-tools mtools zstd)" >&2; exit 1; }
done

t0=$(date +%s.%N)
step() { printf '[%6.1f s] %s\n' "$(echo "$(date +%s.%N) - $t0" | bc)" "$*"; }

if [ "$skip_build" = 0 ]; then
  step "building dist/medulla and the agent"
  (cd "$repo" && node_modules/.bin/bun scripts/build.ts --baseline)
elif [ "$skip_build" = release ]; then
  step "building the release binaries"
  (cd "$repo" && node_modules/.bin/bun scripts/build.ts --release)
fi
[ -x "$repo/dist/medulla" ] || { echo "build-image: dist/medulla is missing (npm run build)" >&2; exit 1; }
version="$("$repo/dist/medulla" version)"
mkdir -p "$out"

work="$(mktemp -d /var/tmp/medulla-image.XXXXXX)"
root="$work/rootfs"
cleanup() {
  set +e
  for m in "$work/mnt/boot/efi" "$work/mnt" "$root/proc" "$root/sys" "$root/dev/pts" "$root/dev"; do
    mountpoint -q "$m" 2>/dev/null && umount -l "$m"
  done
  [ -n "${loopdev:-}" ] && losetup -d "$loopdev" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# 1. The base system: debootstrap (its .debs cached), then the generic configuration. The
#    result is cached as one archive keyed by everything that shapes it.
packages="linux-image-amd64,systemd-sysv,systemd-resolved,udev,kmod,dbus,iproute2,iputils-ping,procps,less,curl,ca-certificates,ipxe,live-boot,initramfs-tools,zstd,fdisk,dosfstools,e2fsprogs,sqlite3,grub-pc-bin,grub-efi-amd64-bin,grub2-common"
key="$(printf '%s\n' "$mirror" "$packages" "$(cat "$here/base-setup.sh")" | sha256sum | cut -c1-16)"
base_tar="${cache:+$cache/base-bookworm-$key.tar.zst}"
mkdir -p "$root"
if [ -n "$base_tar" ] && [ -f "$base_tar" ]; then
  step "base system from the cache ($base_tar)"
  tar --zstd -xpf "$base_tar" -C "$root"
  touch "$base_tar" # the cache keeps the most recently used
else
  debs=()
  if [ -n "$cache" ]; then mkdir -p "$cache/debs"; debs=(--cache-dir="$cache/debs"); fi
  step "debootstrap bookworm (minbase + ${packages//,/ })"
  debootstrap --variant=minbase --include="$packages" "${debs[@]}" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -30 "$work/debootstrap.log" >&2; exit 1; }
  step "base configuration"
  chroot_mounts "$root"
  install -m 0755 "$here/base-setup.sh" "$root/tmp/base-setup.sh"
  chroot "$root" /tmp/base-setup.sh "$mirror" >"$work/base-setup.log" 2>&1 || { tail -30 "$work/base-setup.log" >&2; exit 1; }
  rm -f "$root/tmp/base-setup.sh"
  chroot_umounts "$root"
  if [ -n "$base_tar" ]; then
    step "caching the base system"
    tar --zstd -cpf "$base_tar.part" -C "$root" . && mv "$base_tar.part" "$base_tar"
    # Several branches may share the cache (a package list differs): the three newest stay.
    ls -1t "$cache"/base-bookworm-*.tar.zst 2>/dev/null | tail -n +4 | xargs -r rm -f
  fi
fi

# 2. Medulla: the binary, the agents, the units and scripts of appliance/rootfs.
step "adding medulla $version"
cp -a "$here/rootfs/." "$root/"
install -d -m 0755 "$root/usr/lib/medulla/agent"
install -m 0755 "$repo/dist/medulla" "$root/usr/lib/medulla/medulla"
ln -sf /usr/lib/medulla/medulla "$root/usr/local/bin/medulla"
ln -sf /usr/lib/medulla/upgrade "$root/usr/local/sbin/medulla-upgrade"
ln -sf /usr/lib/medulla/install-disk "$root/usr/local/sbin/medulla-install-disk"
if [ -d "$repo/dist/agent" ]; then
  find "$repo/dist/agent" -maxdepth 1 -type f -name 'medulla-agent-*' -exec install -m 0755 {} "$root/usr/lib/medulla/agent/" \;
  [ -f "$repo/dist/agent/SHA256SUMS" ] && install -m 0644 "$repo/dist/agent/SHA256SUMS" "$root/usr/lib/medulla/agent/"
fi
echo "$version" > "$root/usr/lib/medulla/VERSION"
chroot "$root" /bin/sh -c 'getent passwd medulla >/dev/null || useradd --system --home-dir /var/lib/medulla --no-create-home --shell /usr/sbin/nologin medulla'
chroot "$root" systemctl enable medulla.service medulla-firstboot.service medulla-console@tty1.service medulla-console@ttyS0.service systemd-networkd.service systemd-resolved.service >/dev/null 2>&1
# The root partition grows to fill an enlarged disk at every boot (a no-op when it already
# does): systemd-repart (usr/lib/repart.d/) then systemd-growfs (x-systemd.growfs in fstab).
# systemd-repart.service has no [Install]; outside a systemd initrd it is pulled in here.
install -d "$root/etc/systemd/system/sysinit.target.wants"
ln -sf /lib/systemd/system/systemd-repart.service "$root/etc/systemd/system/sysinit.target.wants/systemd-repart.service"
# No surprise work or downloads at run time (apt timers), no periodic scrub on a small appliance.
for unit in getty@tty1.service apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service e2scrub_all.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
ln -sf /dev/null "$root/etc/systemd/system/serial-getty@ttyS0.service"
rm -f "$root/etc/machine-id" "$root/var/lib/dbus/machine-id"; : > "$root/etc/machine-id"
rm -rf "$root/var/lib/medulla"

sizes=()
# 3. The qcow2: GPT (BIOS boot, EFI system, root ext4), GRUB for BIOS and UEFI.
if [ "$only" != iso ]; then
  step "qcow2: partitioning and copying the system"
  raw="$work/disk.raw"
  truncate -s "$disk_size" "$raw"
  loopdev="$(losetup --find --show --partscan "$raw")"
  MEDULLA_INSTALL_QUIET=1 "$root/usr/lib/medulla/install-disk" --source "$root" --mount "$work/mnt" --yes "$loopdev" >"$work/install-disk.log" 2>&1 \
    || { cat "$work/install-disk.log" >&2; exit 1; }
  losetup -d "$loopdev"; loopdev=""
  step "qcow2: converting (compressed)"
  qcow="$out/medulla-$version-amd64.qcow2"
  qemu-img convert -c -O qcow2 -o compression_type=zstd -m 8 -W "$raw" "$qcow.part" && mv "$qcow.part" "$qcow"
  ln -sf "$(basename "$qcow")" "$out/medulla-amd64.qcow2"
  rm -f "$raw"
  sizes+=("$(basename "$qcow") $(stat -c %s "$qcow")")
fi

# 4. The hybrid ISO: the same system as a squashfs run by live-boot; GRUB for BIOS (El Torito
#    and USB) and UEFI, from grub-mkrescue.
if [ "$only" != qcow2 ]; then
  step "iso: squashfs"
  iso_root="$work/iso"
  mkdir -p "$iso_root/live" "$iso_root/boot/grub"
  kver="$(ls "$root/lib/modules" | sort -V | tail -1)"
  cp "$root/boot/vmlinuz-$kver" "$iso_root/live/vmlinuz"
  cp "$root/boot/initrd.img-$kver" "$iso_root/live/initrd.img"
  mksquashfs "$root" "$iso_root/live/filesystem.squashfs" -comp zstd -Xcompression-level 6 -b 1M -noappend -quiet >/dev/null
  write_live_grub_cfg "$iso_root/boot/grub/grub.cfg" "$version"
  step "iso: grub-mkrescue"
  iso="$out/medulla-$version-amd64.iso"
  grub-mkrescue -o "$iso.part" "$iso_root" -- -volid MEDULLA >"$work/mkrescue.log" 2>&1 || { cat "$work/mkrescue.log" >&2; exit 1; }
  mv "$iso.part" "$iso"
  ln -sf "$(basename "$iso")" "$out/medulla-amd64.iso"
  sizes+=("$(basename "$iso") $(stat -c %s "$iso")")
fi

step "done"
for s in "${sizes[@]}"; do
  set -- $s
  printf 'image %s: %s bytes (%.1f MiB)\n' "$1" "$2" "$(echo "$2 / 1048576" | bc -l)"
done
