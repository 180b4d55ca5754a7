#!/bin/sh
# Runs inside the QEMU guest of test/cgroup2.test.ts (chrooted into the
# host's root, read-only over 9p; $TMPDIR, /dev/shm, is the guest's tmpfs):
# mounts cgroup2 alone, as a Debian 12 host has it, and runs the driver.
# Usage: cgroup2.sh DRIVER.mjs ROOTFS.tar
set -e
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TMPDIR=${TMPDIR:-/dev/shm}
export HOME=$TMPDIR
repo=$(cd "$(dirname "$0")/../.." && pwd)
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p $TMPDIR/cg2
cd "$repo"
exec node "$1" "$repo" "$2" $TMPDIR/cg2
