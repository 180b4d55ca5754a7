#!/usr/bin/env bash
# make demo: a private joeyd, an image made from the host's busybox, and the
# image features driven by joey's CLI and by the docker CLI. Offline: the only
# registry is a private one on loopback. Everything is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(mktemp -d /tmp/joey-demo-XXXXXX)
SOCK="$ROOT/joeyd.sock"
JOEYD_PID=""
REG_PID=""

cleanup() {
  if [ -n "$JOEYD_PID" ] && [ -S "$SOCK" ]; then
    DOCKER_HOST="unix://$SOCK" docker rm -f $(DOCKER_HOST="unix://$SOCK" docker ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  fi
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null || true
  if [ -n "$JOEYD_PID" ]; then
    kill -TERM "$JOEYD_PID" 2>/dev/null || true
    wait "$JOEYD_PID" 2>/dev/null || true
  fi
  # the lxcfs joeyd started (it outlives joeyd, as containers do): by its pid
  if [ -f "$ROOT/run/lxcfs.pid" ]; then
    kill -TERM "$(cat "$ROOT/run/lxcfs.pid")" 2>/dev/null || true
    sleep 0.3
  fi
  umount -l "$ROOT/lxcfs" 2>/dev/null || true
  rm -rf "$ROOT"
  for d in /sys/fs/cgroup/*/joey-demo /sys/fs/cgroup/joey-demo; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
  true
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
joey() { echo "+ joey $*" >&2; bin/joey -H "unix://$SOCK" "$@"; }

step "start a private joeyd (data root $ROOT/data)"
bin/joeyd --data-root "$ROOT/data" --exec-root "$ROOT/run" -H "unix://$SOCK" --pidfile "$ROOT/joeyd.pid" --bridge none --cgroup-parent /joey-demo \
  --enable-lxcfs --lxcfs-home "$ROOT/lxcfs" --log-level warn 2>"$ROOT/joeyd.log" &
JOEYD_PID=$!
for _ in $(seq 1 100); do [ -S "$SOCK" ] && bin/joey -H "unix://$SOCK" version >/dev/null 2>&1 && break; sleep 0.05; done
joey version

step "make a rootfs from the host's busybox and import it"
mkdir -p "$ROOT/rootfs/bin" "$ROOT/rootfs/etc" "$ROOT/rootfs/tmp"
cp /bin/busybox "$ROOT/rootfs/bin/busybox"
for app in sh ls cat echo uname id hostname sleep ps; do ln -s busybox "$ROOT/rootfs/bin/$app"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$ROOT/rootfs/etc/passwd"
echo 'hello from a joey image' >"$ROOT/rootfs/etc/motd"
tar -C "$ROOT/rootfs" -czf "$ROOT/rootfs.tar.gz" .
joey import --change 'CMD ["sh"]' --change 'LABEL org.example.demo=yes' --message 'busybox from the host' "$ROOT/rootfs.tar.gz" demo/busybox:1
joey images
joey image inspect --format 'Id={{.Id}} Cmd={{json .Config.Cmd}} Layers={{len .RootFS.Layers}} Labels={{json .Config.Labels}}' demo/busybox:1
joey history demo/busybox:1

step "push it to a private registry on loopback, remove it, pull it back"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$ROOT/registry.yml" <<YML
version: 0.1
log: { level: error }
storage:
  filesystem: { rootdirectory: $ROOT/registry }
  delete: { enabled: true }
http: { addr: 127.0.0.1:$PORT }
YML
docker-registry serve "$ROOT/registry.yml" >"$ROOT/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1 && break; sleep 0.05; done
joey tag demo/busybox:1 "127.0.0.1:$PORT/demo/busybox:1"
joey push "127.0.0.1:$PORT/demo/busybox:1"
joey rmi "127.0.0.1:$PORT/demo/busybox:1" demo/busybox:1
joey pull "127.0.0.1:$PORT/demo/busybox:1"

step "the docker CLI drives the same daemon (DOCKER_HOST=unix://$SOCK)"
export DOCKER_HOST="unix://$SOCK" DOCKER_CONFIG="$ROOT/docker-config"
echo "+ docker images --digests"; docker images --digests
echo "+ docker save | docker load"
docker save -o "$ROOT/saved.tar" "127.0.0.1:$PORT/demo/busybox:1"
docker rmi "127.0.0.1:$PORT/demo/busybox:1" >/dev/null
docker load -i "$ROOT/saved.tar"

step "run a container from it: conmon + runc, a memory limit, the engine's own /etc/hostname"
docker run --rm --network none --memory 64m --hostname demo-box --cgroup-parent /joey-demo "127.0.0.1:$PORT/demo/busybox:1" \
  sh -c 'cat /etc/motd; echo "hostname: $(hostname)"; echo "memory limit: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"'
docker run -d --name demo-sleeper --network none --cgroup-parent /joey-demo \
  --health-cmd 'test -f /tmp/ready' --health-interval 1s --health-start-period 1s \
  --log-opt max-size=1k --log-opt max-file=2 \
  "127.0.0.1:$PORT/demo/busybox:1" sh -c 'touch /tmp/ready; while :; do echo tick; sleep 1; done' >/dev/null
echo "+ docker exec demo-sleeper ps"; docker exec demo-sleeper ps
for _ in $(seq 1 30); do [ "$(docker inspect -f '{{.State.Health.Status}}' demo-sleeper)" = healthy ] && break; sleep 0.2; done
echo "+ docker ps   (health checks run as execs, no extra process stays)"; docker ps
echo "+ docker exec demo-sleeper sh -c 'echo changed > /etc/motd'; docker diff demo-sleeper"
docker exec demo-sleeper sh -c 'echo changed > /etc/motd'; docker diff demo-sleeper
echo "+ docker cp demo-sleeper:/etc/motd -"; docker cp demo-sleeper:/etc/motd - | tar -xO
echo "+ docker logs --tail 2 demo-sleeper   (json-file max-size/max-file rotation)"; docker logs --tail 2 demo-sleeper
docker rm -f demo-sleeper >/dev/null

IMG="127.0.0.1:$PORT/demo/busybox:1"
step "joey's own: a rich container, lxcfs, a disk quota, an in-place upgrade of a built image"
joey run --rm --network none --cgroup-parent /joey-demo --rich "$IMG" sh -c 'echo "PID 1 is $(cat /proc/1/comm), the command runs under it"'
joey run --rm --network none --cgroup-parent /joey-demo --enableLxcfs -m 64m --cpus 1 "$IMG" sh -c 'echo "with lxcfs (host: '"$(nproc)"' CPUs), /proc/meminfo says: $(grep MemTotal /proc/meminfo), nproc says $(nproc)"'
joey run --rm --network none --cgroup-parent /joey-demo --disk-quota 20m "$IMG" \
  sh -c 'dd if=/dev/zero of=/big bs=1M count=30 2>&1 | grep -i "space\|quota" | head -1; echo "df /: $(df -h / | tail -1)"' || true
mkdir -p "$ROOT/app"
printf 'FROM %s\nARG VERSION\nRUN echo "serving $VERSION" > /version\nCMD ["sh","-c","cat /version; exec sleep 1000"]\n' "$IMG" >"$ROOT/app/Dockerfile"
echo "+ docker build --build-arg VERSION=v1 -t demo/app:1   (the classic builder; DOCKER_BUILDKIT=0)"
DOCKER_BUILDKIT=0 docker build --build-arg VERSION=v1 -t demo/app:1 "$ROOT/app" 2>/dev/null
DOCKER_BUILDKIT=0 docker build -q --build-arg VERSION=v2 -t demo/app:2 "$ROOT/app" 2>/dev/null >/dev/null
docker run -d --name demo-app --network none --cgroup-parent /joey-demo demo/app:1 >/dev/null
echo "+ docker inspect demo-app: $(docker inspect -f '{{.Id}} {{.Config.Image}}' demo-app | cut -c1-12,65-)"
joey upgrade --image demo/app:2 --rollback-window 2s demo-app
echo "+ docker inspect demo-app: $(docker inspect -f '{{.Id}} {{.Config.Image}}' demo-app | cut -c1-12,65-)   (same id, new image)"
echo "+ docker logs demo-app"; docker logs demo-app
docker rm -f demo-app >/dev/null

step "metrics"
curl -s --unix-socket "$SOCK" http://joey/metrics | grep -E '^joey_(images|image_pulls_total|image_pushes_total) '

step "done: stopping joeyd and the registry, removing $ROOT"
