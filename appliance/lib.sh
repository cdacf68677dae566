# Helpers shared by build-image.sh (sourced).
chroot_mounts() {
  mount -t proc proc "$1/proc"
  mount -t sysfs sys "$1/sys"
  mount --bind /dev "$1/dev"
  mount --bind /dev/pts "$1/dev/pts"
}
chroot_umounts() {
  umount "$1/dev/pts" "$1/dev" "$1/sys" "$1/proc"
}
# The live ISO's menu: the live system (default), the same on the serial console only, and
# "install to disk" (which starts the live system with the installer on the console).
write_live_grub_cfg() {
  cat > "$1" <<CFG
set timeout=3
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
insmod all_video
menuentry "Medulla $2 (live)" {
  linux /live/vmlinuz boot=live components quiet mitigations=off console=tty0 console=ttyS0,115200 medulla.live=1
  initrd /live/initrd.img
}
menuentry "Medulla $2: install to a disk" {
  linux /live/vmlinuz boot=live components quiet mitigations=off console=tty0 console=ttyS0,115200 medulla.live=1 medulla.install=1
  initrd /live/initrd.img
}
CFG
}
