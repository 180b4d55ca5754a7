#!/usr/bin/env python3
"""Volume scenarios driven by docker-py (Debian's python3-docker).

Usage: volumes_scenario.py IMAGE RUN_ID

Talks to the daemon in DOCKER_HOST. Every volume and container it makes
carries the label it.py=RUN_ID and is removed before it exits. Prints
`ok volumes` and exits 0 when every check passed.
"""
import sys

import docker
from docker.errors import APIError, NotFound


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def main():
    image, run_id = sys.argv[1], sys.argv[2]
    client = docker.from_env(version="auto")
    labels = {"it.py": run_id}
    name = f"py-vol-{run_id}"
    made = []
    try:
        v = client.volumes.create(name=name, driver="local", labels=labels)
        made.append(v)
        expect(v.name == name, v.attrs)
        expect(v.attrs["Driver"] == "local" and v.attrs["Labels"] == labels, v.attrs)
        again = client.volumes.create(name=name, labels=labels)
        expect(again.attrs["CreatedAt"] == v.attrs["CreatedAt"], "create is idempotent")
        tv = client.volumes.create(name=f"{name}-tmpfs", driver_opts={"type": "tmpfs", "device": "tmpfs", "o": "size=2m"}, labels=labels)
        made.append(tv)
        expect(tv.attrs["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=2m"}, tv.attrs)
        listed = [x.name for x in client.volumes.list(filters={"label": f"it.py={run_id}"})]
        expect(sorted(listed) == sorted([name, f"{name}-tmpfs"]), listed)

        out = client.containers.run(image, ["sh", "-c", "echo hello > /v/f; grep ' /t ' /proc/mounts"], remove=True, labels=labels,
                                    network_mode="none", volumes={name: {"bind": "/v", "mode": "rw"}, f"{name}-tmpfs": {"bind": "/t", "mode": "rw"}})
        expect(b"tmpfs" in out and b"size=2048k" in out, out)
        out = client.containers.run(image, ["cat", "/v/f"], remove=True, labels=labels, network_mode="none",
                                    mounts=[docker.types.Mount("/v", name, type="volume", read_only=True)])
        expect(out == b"hello\n", out)

        c = client.containers.create(image, ["true"], labels=labels, volumes={name: {"bind": "/v", "mode": "ro"}})
        try:
            try:
                v.remove()
                raise AssertionError("removing a volume in use should fail")
            except APIError as e:
                expect(e.status_code == 409 and "volume is in use" in str(e), str(e))
        finally:
            c.remove(v=True)

        api = tuple(int(x) for x in client.version()["ApiVersion"].split("."))
        if api >= (1, 42):
            # API 1.42+: a prune takes anonymous volumes only unless all=true.
            pruned = client.volumes.prune(filters={"label": f"it.py={run_id}"})
            expect(not pruned.get("VolumesDeleted"), f"named volumes stay without all=true: {pruned}")
            pruned = client.volumes.prune(filters={"label": f"it.py={run_id}", "all": "true"})
            expect(sorted(pruned["VolumesDeleted"] or []) == sorted([name, f"{name}-tmpfs"]), pruned)
        else:
            # dockerd 20.10 (API 1.41) prunes every unused volume, except those with driver options.
            pruned = client.volumes.prune(filters={"label": f"it.py={run_id}"})
            expect(name in (pruned["VolumesDeleted"] or []), pruned)
            tv.remove()
        made = []
        try:
            client.volumes.get(name)
            raise AssertionError("the volume should be gone")
        except NotFound:
            pass
    finally:
        for x in made:
            try:
                x.remove(force=True)
            except Exception:
                pass
    print("ok volumes")


if __name__ == "__main__":
    main()
