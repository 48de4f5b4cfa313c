#!/usr/bin/env python3
"""Replication benchmarks: replscope-server against a real redis-server 7.0 on this machine.

    scripts/bench-replication.py                 # both measures, 3 rounds each
    KEYS=1000000 ROUNDS=5 scripts/bench-replication.py fullsync
    ROUNDS=5 scripts/bench-replication.py set-with-replica

fullsync
    A master holding KEYS small keys (`SET key:N value:N`, loaded with redis-cli --pipe)
    and an empty replica of the same implementation. The clock starts when the replica is
    sent `REPLICAOF` and stops when its INFO says `master_link_status:up` with
    `master_sync_in_progress:0`; that span is the whole full resynchronization: the
    master's snapshot (RDB encoding), the transfer over loopback TCP and the replica's load.
    Both masters run diskless (`repl-diskless-sync yes`, the 7.0 default) with
    `repl-diskless-sync-delay 0` so no deliberate wait is measured; the replicas load from
    the socket into memory after receiving it (`repl-diskless-load disabled`). The replica
    is polled every 2 ms over its own connection, the same for both.

set-with-replica
    `redis-benchmark -q -t set -n 200000 -P 16` against a master with one online replica
    of the same implementation, so every SET is also encoded into the replication stream,
    appended to the backlog and written to the replica. Rounds alternate between the
    implementations; the medians and their ratio are printed.

Every server binds 127.0.0.1 on a free port, runs in its own temp dir with persistence
off, and is stopped by PID at the end.
"""

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
KEYS = int(os.environ.get("KEYS", "1000000"))

processes = []
temp_dirs = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Conn:
    """A minimal RESP client: enough for INFO, CONFIG and REPLICAOF."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def command(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self.reply()

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(65536)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode()
        if kind == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise RuntimeError(f"unexpected reply {line!r}")

    def info(self, section):
        fields = {}
        for l in self.command("INFO", section).splitlines():
            if ":" in l:
                k, v = l.split(":", 1)
                fields[k] = v
        return fields


def server_binary(kind):
    if kind == "redis":
        return shutil.which("redis-server")
    return os.path.join(ROOT, "target", "release-native", "replscope-server")


def start(kind, *extra):
    port = free_port()
    d = tempfile.mkdtemp(prefix=f"bench-{kind}-")
    temp_dirs.append(d)
    log = open(os.path.join(d, "server.log"), "wb")
    args = [server_binary(kind), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", d, "--daemonize", "no", *extra]
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    processes.append(p)
    for _ in range(200):
        try:
            c = Conn(port)
            if c.command("PING") == "PONG":
                return p, port, c
        except OSError:
            time.sleep(0.025)
    sys.exit(f"{kind} did not start; see {d}/server.log")


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def cleanup():
    for p in processes:
        stop(p)
    for d in temp_dirs:
        shutil.rmtree(d, ignore_errors=True)


def dataset_file():
    """The KEYS SETs as one RESP file for redis-cli --pipe, made once."""
    path = os.path.join(tempfile.gettempdir(), f"replscope-bench-{KEYS}-keys.resp")
    if not os.path.exists(path):
        with open(path + ".part", "wb") as f:
            for i in range(KEYS):
                k, v = b"key:%d" % i, b"value:%d" % i
                f.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
        os.replace(path + ".part", path)
    return path


def fullsync_once(kind):
    master, mport, mconn = start(kind, "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0")
    with open(dataset_file(), "rb") as data:
        out = subprocess.run(["redis-cli", "-p", str(mport), "--pipe"], stdin=data,
                             capture_output=True, text=True, check=True).stdout
    if "errors: 0" not in out:
        sys.exit(f"loading the dataset into {kind} failed: {out}")
    assert int(mconn.command("DBSIZE")) == KEYS
    replica, rport, rconn = start(kind, "--repl-diskless-load", "disabled")
    began = time.perf_counter()
    rconn.command("REPLICAOF", "127.0.0.1", str(mport))
    while True:
        info = rconn.info("replication")
        if info.get("master_link_status") == "up" and info.get("master_sync_in_progress") == "0":
            break
        time.sleep(0.002)
    elapsed = time.perf_counter() - began
    keys = int(rconn.command("DBSIZE"))
    if keys != KEYS:
        sys.exit(f"{kind} replica has {keys} keys after the sync, expected {KEYS}")
    stop(replica)
    stop(master)
    return elapsed


def set_with_replica_once(kind, pair):
    (_, mport, _) = pair
    out = subprocess.run(["redis-benchmark", "-q", "-p", str(mport), "-t", "set", "-n", "200000", "-P", "16"],
                         capture_output=True, text=True, check=True).stdout
    line = [l for l in out.replace("\r", "\n").splitlines() if "requests per second" in l][-1]
    return float(line.split(":")[1].split()[0])


def replicated_pair(kind):
    master, mport, mconn = start(kind)
    replica, rport, rconn = start(kind)
    rconn.command("REPLICAOF", "127.0.0.1", str(mport))
    for _ in range(1000):
        if rconn.info("replication").get("master_link_status") == "up":
            break
        time.sleep(0.02)
    else:
        sys.exit(f"{kind} replica never came up")
    return master, mport, rconn


def report(title, unit, results, higher_is_better):
    r, s = statistics.median(results["redis"]), statistics.median(results["scope"])
    print(f"\n{title} (median of {ROUNDS})")
    print(f"  redis-server 7.0: {r:,.3f} {unit}   all: {', '.join(f'{x:,.3f}' for x in results['redis'])}")
    print(f"  replscope-server: {s:,.3f} {unit}   all: {', '.join(f'{x:,.3f}' for x in results['scope'])}")
    ratio = s / r if higher_is_better else r / s
    print(f"  replscope speed relative to redis-server: {ratio:.2f}x")


def main():
    what = sys.argv[1:] or ["fullsync", "set-with-replica"]
    subprocess.run(["cargo", "build", "--quiet", "--profile", "release-native", "--no-default-features",
                    "--bin", "replscope-server"], cwd=ROOT, check=True)
    version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{version}\nmachine: {os.cpu_count()} cores")
    try:
        if "fullsync" in what:
            results = {"redis": [], "scope": []}
            for rnd in range(ROUNDS):
                for kind in ("redis", "scope"):
                    t = fullsync_once(kind)
                    results[kind].append(t)
                    print(f"round {rnd + 1}: {kind} full resync of {KEYS:,} keys: {t:.3f} s", flush=True)
            report(f"full resync of {KEYS:,} small keys", "s", results, higher_is_better=False)
        if "set-with-replica" in what:
            results = {"redis": [], "scope": []}
            pairs = {kind: replicated_pair(kind) for kind in ("redis", "scope")}
            for rnd in range(ROUNDS):
                for kind in ("redis", "scope"):
                    rps = set_with_replica_once(kind, pairs[kind])
                    results[kind].append(rps)
                    print(f"round {rnd + 1}: {kind} SET -P 16 with one replica: {rps:,.0f} requests/s", flush=True)
            for kind, (_, _, rconn) in pairs.items():
                info = rconn.info("replication")
                print(f"{kind} replica after the runs: link {info.get('master_link_status')}, offset {info.get('slave_repl_offset')}")
            report("redis-benchmark -t set -n 200000 -P 16, one replica attached", "requests/s", results, higher_is_better=True)
    finally:
        cleanup()


if __name__ == "__main__":
    main()
