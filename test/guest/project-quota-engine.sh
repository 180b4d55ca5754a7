#!/bin/sh
# Runs inside the QEMU guest of test/project-quota-engine.test.ts (chrooted
# into the host's root, read-only over 9p; $TMPDIR, /dev/shm, is the guest's
# tmpfs): mounts cgroup2 for runc, makes an XFS and an ext4 filesystem with
# project quota, and runs the driver (bundled by the host) over both.
# Usage: project-quota-engine.sh DRIVER.mjs ROOTFS.tar
set -e
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TMPDIR=${TMPDIR:-/dev/shm}
export HOME=$TMPDIR
repo=$(cd "$(dirname "$0")/../.." && pwd)
driver=$1
tar=$2
# The initramfs mounts no cgroup filesystem; runc needs one (v2 here).
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup
w=$TMPDIR/pqe
mkdir -p $w/xfs $w/ext4
# mkfs.xfs wants at least 300 MiB; the images are sparse files in tmpfs.
truncate -s 320M $w/xfs.img
truncate -s 160M $w/ext4.img
echo "joey-guest: mkfs at $(cut -d' ' -f1 /proc/uptime) s"
mkfs.xfs -q $w/xfs.img &
mkfs.ext4 -q -F -m 0 -O quota,project $w/ext4.img
wait $!
echo "joey-guest: mount at $(cut -d' ' -f1 /proc/uptime) s"
mount -o loop,prjquota $w/xfs.img $w/xfs
mount -o loop,prjquota $w/ext4.img $w/ext4
echo "joey-guest: filesystems ready after $(cut -d' ' -f1 /proc/uptime) s"
cd "$repo"
# With every capability, as joeyd runs on a real host: CAP_SYS_RESOURCE
# would take a writer past ext4's hard limits, and no container write may
# carry it (containers do not get it; overlayfs drops it for its own writes).
exec node "$driver" "$repo" "$tar" $w/xfs $w/ext4
