#!/usr/bin/env python3
"""Container scenarios driven by docker-py (Debian's python3-docker).

Usage: containers_scenario.py SCENARIO IMAGE RUN_ID
       containers_scenario.py --list

Talks to the daemon in DOCKER_HOST. Every container it makes carries the
label it.py=RUN_ID and is removed before it exits. Prints `ok SCENARIO` and
exits 0 when every check passed; a failed check is an AssertionError with
the values, and the traceback goes to stderr.
"""
import datetime
import io
import sys
import tarfile
import time

import docker
from docker.errors import APIError, ContainerError, ImageNotFound, NotFound
from docker.utils.socket import frames_iter

MiB = 1024 * 1024


def wait_until(what, probe, timeout=15.0, interval=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def raises(exc, fn):
    try:
        fn()
    except exc as e:
        return e
    raise AssertionError(f"expected {exc.__name__}")


class Ctx:
    def __init__(self, image, run_id):
        # version='auto' asks the daemon for its API version (docker-py 7.1 would send 1.44 otherwise).
        self.client = docker.from_env(version="auto", timeout=60)
        self.image = image
        self.run_id = run_id
        self.labels = {"it.py": run_id}
        self.label_filter = f"it.py={run_id}"
        self.n = 0

    def name(self, what):
        self.n += 1
        return f"py-{self.run_id}-{what}-{self.n}"

    def run(self, cmd, **kw):
        kw.setdefault("labels", dict(self.labels))
        return self.client.containers.run(self.image, cmd, **kw)

    def cleanup(self):
        for c in self.client.containers.list(all=True, filters={"label": self.label_filter}):
            try:
                c.remove(force=True, v=True)
            except NotFound:
                pass


def state(c):
    c.reload()
    return c.attrs["State"]


# ---- scenarios ---------------------------------------------------------------


def scenario_run(ctx):
    """containers.run: output, stdout/stderr apart, ContainerError, ImageNotFound, name conflicts."""
    out = ctx.run(["sh", "-c", "echo out; echo err >&2"], remove=True)
    expect(out == b"out\n", f"stdout of run: {out!r}")
    err = ctx.run(["sh", "-c", "echo out; echo err >&2"], remove=True, stdout=False, stderr=True)
    expect(err == b"err\n", f"stderr of run: {err!r}")
    e = raises(ContainerError, lambda: ctx.run(["sh", "-c", "echo failing >&2; exit 3"], remove=True))
    expect(e.exit_status == 3, f"exit status {e.exit_status}")
    expect(b"failing" in (e.stderr or b""), f"ContainerError.stderr {e.stderr!r}")
    raises(ImageNotFound, lambda: ctx.client.containers.create("127.0.0.1:9/no/such-image:nope", labels=ctx.labels))
    n = ctx.name("dup")
    ctx.client.containers.create(ctx.image, ["true"], name=n, labels=ctx.labels)
    e = raises(APIError, lambda: ctx.client.containers.create(ctx.image, ["true"], name=n, labels=ctx.labels))
    expect(e.status_code == 409, f"a duplicate name gives {e.status_code}, not 409")
    left = ctx.client.containers.list(all=True, filters={"label": ctx.label_filter})
    expect([c.name for c in left] == [n], f"remove=True left {[c.name for c in left]}")


def scenario_lifecycle(ctx):
    """create, start, pause, unpause, rename, restart, stop, kill, remove."""
    n = ctx.name("life")
    c = ctx.client.containers.create(ctx.image, ["sleep", "1000"], name=n, labels=ctx.labels)
    expect(c.status == "created", f"status after create: {c.status}")
    c.start()
    st = state(c)
    expect(st["Running"] and st["Status"] == "running", f"after start: {st}")
    pid = st["Pid"]
    expect(pid > 0, f"Pid {pid}")
    c.pause()
    expect(state(c)["Status"] == "paused", f"after pause: {c.attrs['State']}")
    c.unpause()
    expect(state(c)["Status"] == "running", f"after unpause: {c.attrs['State']}")
    n2 = ctx.name("renamed")
    c.rename(n2)
    c.reload()
    expect(c.name == n2, f"name after rename: {c.name}")
    expect(ctx.client.containers.get(n2).id == c.id, "get by the new name")
    raises(NotFound, lambda: ctx.client.containers.get(n))
    c.restart(timeout=1)
    st = state(c)
    expect(st["Running"] and st["Pid"] not in (0, pid), f"restart gives a new process: {pid} -> {st['Pid']}")
    t0 = time.monotonic()
    c.stop(timeout=1)
    took = time.monotonic() - t0
    st = state(c)
    expect(st["Status"] == "exited" and st["ExitCode"] == 137, f"stop of a TERM-ignoring PID 1 after 1 s: {st}")
    expect(0.8 <= took < 8, f"stop took {took:.1f}s")
    c.start()
    c.kill()
    expect(c.wait(timeout=30)["StatusCode"] == 137, "wait after kill")
    c.remove(v=True)
    raises(NotFound, lambda: ctx.client.containers.get(c.id))


def scenario_wait_restart_policy(ctx):
    """wait returns the exit code; on-failure:2 restarts twice."""
    c = ctx.run(["sh", "-c", "exit 5"], detach=True)
    r = c.wait(timeout=30)
    expect(r["StatusCode"] == 5, f"wait: {r}")
    c = ctx.run(["sh", "-c", "echo run; exit 3"], detach=True, restart_policy={"Name": "on-failure", "MaximumRetryCount": 2})

    def done():
        c.reload()
        return c.attrs["RestartCount"] == 2 and c.attrs["State"]["Status"] == "exited"

    wait_until("RestartCount 2 and exited", done)
    expect(c.attrs["State"]["ExitCode"] == 3, f"{c.attrs['State']}")
    expect(c.logs().decode().split() == ["run", "run", "run"], f"logs of three runs: {c.logs()!r}")


def scenario_exec(ctx):
    """exec_run: exit code, demux, user, workdir, environment, tty, detach."""
    c = ctx.run(["sleep", "1000"], detach=True, environment={"A": "1"})
    r = c.exec_run(["sh", "-c", "echo o; echo e >&2; exit 3"], demux=True)
    expect(r.exit_code == 3, f"exit code {r.exit_code}")
    expect(r.output == (b"o\n", b"e\n"), f"demuxed output {r.output!r}")
    r = c.exec_run(["sh", "-c", 'id -u; pwd; echo "$A$B"'], user="nobody", workdir="/tmp", environment={"B": "2"})
    expect(r.exit_code == 0 and r.output == b"65534\n/tmp\n12\n", f"user/workdir/env: {r}")
    r = c.exec_run("tty", tty=True)
    expect(r.output.startswith(b"/dev/pts/"), f"tty: {r.output!r}")
    r = c.exec_run(["sh", "-c", "sleep 0.2; echo detached > /tmp/d"], detach=True)
    wait_until("the detached exec's file", lambda: c.exec_run(["cat", "/tmp/d"]).output == b"detached\n")


def scenario_logs(ctx):
    """logs: stdout/stderr apart, tail, timestamps, since/until, follow."""
    c = ctx.run(["sh", "-c", "echo out1; echo err1 >&2; sleep 2.2; echo out2; echo err2 >&2"], detach=True)
    expect(c.wait(timeout=30)["StatusCode"] == 0, "exit")
    expect(c.logs(stdout=True, stderr=False) == b"out1\nout2\n", f"stdout {c.logs(stdout=True, stderr=False)!r}")
    expect(c.logs(stdout=False, stderr=True) == b"err1\nerr2\n", f"stderr {c.logs(stdout=False, stderr=True)!r}")
    # tail counts lines of both streams together.
    tail = c.logs(tail=2, stdout=True, stderr=True)
    expect(sorted(tail.split()) == [b"err2", b"out2"], f"tail=2: {tail!r}")
    stamped = c.logs(timestamps=True, stdout=True, stderr=False).decode().splitlines()
    expect(len(stamped) == 2 and stamped[1].endswith(" out2"), f"timestamps: {stamped}")
    ts = stamped[1].split(" ")[0]
    # docker-py sends since/until as whole seconds (truncated): with 2.2 s
    # between the lines, out2 - 1 s truncated still falls between them.
    second = datetime.datetime.fromisoformat(ts[:26].rstrip("Z")).replace(tzinfo=datetime.timezone.utc)
    since = c.logs(since=second - datetime.timedelta(seconds=1), stdout=True, stderr=True)
    expect(b"out1" not in since and b"out2" in since and b"err2" in since, f"since: {since!r}")
    until = c.logs(until=second - datetime.timedelta(seconds=1), stdout=True, stderr=True)
    expect(b"out1" in until and b"out2" not in until, f"until: {until!r}")

    f = ctx.run(["sh", "-c", 'trap "echo bye; exit 0" TERM; echo start; sleep 1000 & wait'], detach=True)
    stream = f.logs(stream=True, follow=True)
    got = b""
    for chunk in stream:
        got += chunk
        if b"start" in got:
            break
    f.exec_run(["sh", "-c", "echo live > /proc/1/fd/1"])
    for chunk in stream:
        got += chunk
        if b"live" in got:
            break
    f.stop(timeout=10)
    for chunk in stream:
        got += chunk
    expect(got.split() == [b"start", b"live", b"bye"], f"followed logs: {got!r}")


def scenario_archive(ctx):
    """put_archive, get_archive, export."""
    c = ctx.run(["sleep", "1000"], detach=True)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = b"from python\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    expect(c.put_archive("/tmp", buf.getvalue()), "put_archive")
    expect(c.exec_run(["cat", "/tmp/hello.txt"]).output == b"from python\n", "the file is in the container")
    bits, stat = c.get_archive("/tmp/hello.txt")
    expect(stat["name"] == "hello.txt" and stat["size"] == 12, f"stat {stat}")
    with tarfile.open(fileobj=io.BytesIO(b"".join(bits))) as t:
        expect(t.extractfile("hello.txt").read() == b"from python\n", "get_archive content")
    raises(NotFound, lambda: c.get_archive("/no/such/file"))
    with tarfile.open(fileobj=io.BytesIO(b"".join(c.export()))) as t:
        names = set(n.lstrip("./") for n in t.getnames())
    expect("bin/busybox" in names and "tmp/hello.txt" in names, f"export holds {len(names)} entries")


def scenario_stats(ctx):
    """stats: one sample with the memory limit, and a stream of two samples."""
    c = ctx.run(["sleep", "1000"], detach=True, mem_limit="64m")
    s = c.stats(stream=False)
    expect(s["memory_stats"]["limit"] == 64 * MiB, f"memory limit {s['memory_stats'].get('limit')}")
    expect(s["memory_stats"]["usage"] > 0, f"memory usage {s['memory_stats'].get('usage')}")
    expect(s["pids_stats"]["current"] == 1, f"pids {s.get('pids_stats')}")
    stream = c.stats(stream=True, decode=True)
    a = next(stream)
    b = next(stream)
    expect(a["read"] != b["read"], f"two samples, read at {a['read']} and {b['read']}")
    expect(b["precpu_stats"]["cpu_usage"]["total_usage"] == a["cpu_stats"]["cpu_usage"]["total_usage"],
           "the second sample's precpu_stats is the first sample's cpu_stats")


def scenario_update(ctx):
    """update: memory, cpu shares and the restart policy of a running container."""
    c = ctx.run(["sleep", "1000"], detach=True, mem_limit="32m")
    c.update(mem_limit="48m", memswap_limit="96m", cpu_shares=256, restart_policy={"Name": "on-failure", "MaximumRetryCount": 3})
    c.reload()
    hc = c.attrs["HostConfig"]
    expect(hc["Memory"] == 48 * MiB and hc["MemorySwap"] == 96 * MiB and hc["CpuShares"] == 256, f"HostConfig {hc['Memory']} {hc['MemorySwap']} {hc['CpuShares']}")
    expect(hc["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}, f"RestartPolicy {hc['RestartPolicy']}")
    expect(c.stats(stream=False)["memory_stats"]["limit"] == 48 * MiB, "stats sees the new limit")


def scenario_list_prune(ctx):
    """containers.list with filters, and prune with a label filter."""
    running = ctx.run(["sleep", "1000"], detach=True, labels={**ctx.labels, "role": "running"})
    exited = ctx.run(["sh", "-c", "exit 3"], detach=True, labels={**ctx.labels, "role": "exited"})
    exited.wait(timeout=30)
    created = ctx.client.containers.create(ctx.image, ["true"], labels={**ctx.labels, "role": "created"})
    ids = lambda cs: sorted(c.id for c in cs)  # noqa: E731
    lf = ctx.label_filter
    expect(ids(ctx.client.containers.list(filters={"label": lf})) == [running.id], "running only by default")
    expect(ids(ctx.client.containers.list(all=True, filters={"label": lf})) == sorted([running.id, exited.id, created.id]), "all=True")
    expect(ids(ctx.client.containers.list(all=True, filters={"label": lf, "status": "exited"})) == [exited.id], "status=exited")
    expect(ids(ctx.client.containers.list(all=True, filters={"label": lf, "status": "created"})) == [created.id], "status=created")
    expect(ids(ctx.client.containers.list(all=True, filters={"label": lf, "exited": 3})) == [exited.id], "exited=3")
    expect(ids(ctx.client.containers.list(all=True, filters={"label": [lf, "role=running"]})) == [running.id], "two labels")
    expect(ids(ctx.client.containers.list(all=True, filters={"label": lf, "id": created.id[:12]})) == [created.id], "id=")
    expect(ids(ctx.client.containers.list(all=True, filters={"label": lf, "ancestor": ctx.image})) == sorted([running.id, exited.id, created.id]), "ancestor=")
    r = ctx.client.containers.prune(filters={"label": lf})
    expect(sorted(r.get("ContainersDeleted") or []) == sorted([exited.id, created.id]), f"prune deleted {r}")
    expect(isinstance(r.get("SpaceReclaimed"), int), f"SpaceReclaimed {r}")
    expect(ids(ctx.client.containers.list(all=True, filters={"label": lf})) == [running.id], "the running one stays")


def scenario_commit_diff_top(ctx):
    """diff, top and commit of a running container; the committed image runs."""
    c = ctx.run(["sh", "-c", "echo committed > /hello; rm /etc/group; exec sleep 1000"], detach=True)
    wait_until("the container's changes", lambda: any(d["Path"] == "/hello" for d in (c.diff() or [])))
    diff = {(d["Path"], d["Kind"]) for d in c.diff()}
    for want in [("/hello", 1), ("/etc/group", 2), ("/etc", 0)]:
        expect(want in diff, f"diff lacks {want}: {sorted(diff)}")
    top = c.top()
    expect("PID" in top["Titles"], f"top titles {top['Titles']}")
    cmd_col = top["Titles"].index("CMD") if "CMD" in top["Titles"] else len(top["Titles"]) - 1
    expect(any(p[cmd_col] == "sleep 1000" for p in top["Processes"]), f"top processes {top['Processes']}")
    img = c.commit(repository="it-py/committed", tag=ctx.run_id, message="py commit", changes=['CMD ["cat", "/hello"]'])
    try:
        expect(img.attrs["Comment"] == "py commit", f"Comment {img.attrs.get('Comment')}")
        expect(img.attrs["Config"]["Cmd"] == ["cat", "/hello"], f"Cmd {img.attrs['Config']['Cmd']}")
        out = ctx.client.containers.run(img.id, remove=True, labels=ctx.labels)
        expect(out == b"committed\n", f"the committed image runs: {out!r}")
    finally:
        ctx.client.images.remove(img.id, force=True)


def scenario_attach(ctx):
    """attach_socket: stdin reaches the process, stdout and stderr come back as separate frames."""
    c = ctx.run(["sh", "-c", 'read l; echo "got:$l"; echo "err:$l" >&2; exit 4'], detach=True, stdin_open=True)
    sock = c.attach_socket(params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
    raw = getattr(sock, "_sock", sock)
    raw.sendall(b"x\n")
    out, err = b"", b""
    for stream, data in frames_iter(sock, tty=False):
        if stream == 1:
            out += data
        elif stream == 2:
            err += data
    sock.close()
    expect(out == b"got:x\n" and err == b"err:x\n", f"attached output {out!r} {err!r}")
    expect(c.wait(timeout=30)["StatusCode"] == 4, "exit code after attach")


def scenario_health_events(ctx):
    """A health check goes healthy then unhealthy, and events say so."""
    t0 = int(time.time()) - 1
    c = ctx.run(["sh", "-c", "touch /tmp/ok; exec sleep 1000"], detach=True, healthcheck={
        "test": ["CMD-SHELL", "test -f /tmp/ok"], "interval": 200_000_000, "timeout": 1_000_000_000, "retries": 2,
    })
    health = lambda: state(c).get("Health", {}).get("Status")  # noqa: E731
    wait_until("healthy", lambda: health() == "healthy")
    c.exec_run(["rm", "/tmp/ok"])
    wait_until("unhealthy", lambda: health() == "unhealthy")
    events = ctx.client.events(since=t0, until=int(time.time()) + 1, decode=True, filters={"container": c.id})
    actions = [e.get("Action") or e.get("status") for e in events]
    hs = [a for a in actions if a and a.startswith("health_status")]
    expect(hs[:1] == ["health_status: healthy"] and "health_status: unhealthy" in hs, f"health events {hs}")


SCENARIOS = {
    "run": scenario_run,
    "lifecycle": scenario_lifecycle,
    "wait_restart_policy": scenario_wait_restart_policy,
    "exec": scenario_exec,
    "logs": scenario_logs,
    "archive": scenario_archive,
    "stats": scenario_stats,
    "update": scenario_update,
    "list_prune": scenario_list_prune,
    "commit_diff_top": scenario_commit_diff_top,
    "attach": scenario_attach,
    "health_events": scenario_health_events,
}


def main(argv):
    if argv[1:] == ["--list"]:
        print("\n".join(SCENARIOS))
        return 0
    if len(argv) != 4 or argv[1] not in SCENARIOS:
        print(__doc__, file=sys.stderr)
        return 2
    ctx = Ctx(argv[2], argv[3])
    try:
        SCENARIOS[argv[1]](ctx)
    finally:
        ctx.cleanup()
        ctx.client.close()
    print(f"ok {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
