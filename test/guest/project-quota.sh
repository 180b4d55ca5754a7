#!/bin/sh
# Runs inside the QEMU guest of test/project-quota.test.ts (chrooted into the
# host's root, read-only over 9p; $TMPDIR, /dev/shm, is the guest's tmpfs): makes an XFS and
# an ext4 filesystem with project quota, mounts them, and runs the driver.
set -e
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TMPDIR=${TMPDIR:-/dev/shm}
export HOME=$TMPDIR
repo=$(cd "$(dirname "$0")/../.." && pwd)
w=$TMPDIR/pq
mkdir -p $w/xfs $w/ext4
# mkfs.xfs wants at least 300 MiB; the images are sparse files in tmpfs.
truncate -s 320M $w/xfs.img
mkfs.xfs -q $w/xfs.img
mount -o loop,prjquota $w/xfs.img $w/xfs
truncate -s 128M $w/ext4.img
mkfs.ext4 -q -F -m 0 -O quota,project $w/ext4.img
mount -o loop,prjquota $w/ext4.img $w/ext4
echo "joey-guest: filesystems ready after $(cut -d' ' -f1 /proc/uptime) s"
cd "$repo"
# Without CAP_SYS_RESOURCE, as in a container (and as joeyd runs on the build
# hosts): with it, ext4 (like any filesystem on the VFS quota code) lets root
# past hard limits.
exec setpriv --bounding-set -sys_resource node --import tsx test/guest/project-quota-guest.ts $w/xfs $w/ext4
