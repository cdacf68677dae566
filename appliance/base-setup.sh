#!/bin/sh
# Runs inside the freshly debootstrapped system (chroot): everything generic to the appliance
# that does not depend on the Medulla build. Its result is cached by build-image.sh.
set -eu
mirror="$1"
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
cat > /etc/apt/sources.list <<SRC
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://security.debian.org/debian-security bookworm-security main
SRC
echo medulla > /etc/hostname
printf '127.0.0.1\tlocalhost\n127.0.1.1\tmedulla\n::1\tlocalhost ip6-localhost ip6-loopback\n' > /etc/hosts
# Small, quick initramfs that still boots real hardware: most modules, zstd.
sed -i 's/^MODULES=.*/MODULES=most/; s/^#\?COMPRESS=.*/COMPRESS=zstd/' /etc/initramfs-tools/initramfs.conf
update-initramfs -u -k all
ln -sf /run/systemd/resolve/stub-resolv.conf /etc/resolv.conf
# No documentation, manuals or translations on an appliance.
find /usr/share/doc -type f ! -name copyright -delete; find /usr/share/doc -type l -delete; rm -rf /usr/share/man/* /usr/share/info/* /usr/share/lintian
find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'en*' ! -name 'fr*' ! -name locale.alias -exec rm -rf {} +
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/*.log /var/cache/debconf/*-old
