#!/usr/bin/env bash
# Installs what joey and its tests need on Debian 12, skipping what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  runc conmon crun lxcfs fuse3
  iptables iproute2 containernetworking-plugins
  busybox-static tini catatonit debootstrap
  docker-registry skopeo umoci podman
  golang-github-containers-common
  attr libcap2-bin tar openssl ca-certificates curl zstd xz-utils bzip2
  python3-docker docker-compose tmux
  build-essential libc6-dev python3   # libc6-dev: libc.a, for the static joey-pause (CRI sandboxes)
  btrfs-progs xfsprogs quota e2fsprogs util-linux
  qemu-system-x86
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm: install when the lock file changed since the last install.
stamp=node_modules/.joey-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "installing npm packages"
  # `npm install`, not `npm ci`: node-unix-socket lists optional per-platform
  # packages that the registry does not have, which `npm ci` refuses; with the
  # lock file in place `npm install` still installs exactly the locked versions.
  npm_config_nodedir="${npm_config_nodedir:-/usr}" npm install --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
