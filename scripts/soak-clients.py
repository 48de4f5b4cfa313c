#!/usr/bin/env python3
"""Soak replscope-server (and, side by side, redis-server) with pipelining clients, some
of which never read their replies.

    python3 scripts/soak-clients.py [--seconds 60] [--clients 1000] [--offenders 50]
                                    [--server target/release-native/replscope-server]
                                    [--redis redis-server | --no-redis]

For each server: a baseline phase where only the well-behaved clients run, then the soak
proper, where `--offenders` of the `--clients` pipeline GETs of a 1 KB value and never
read (reconnecting each time they are dropped). Each well-behaved client keeps a pipeline
of 16 GETs in flight and reads every reply. The server runs with
`client-output-buffer-limit "normal 8mb 4mb 10"` and `maxclients 4096`.

Reported per server: the well-behaved clients' throughput in both phases, the server's
peak RSS (VmHWM) and its RSS sampled through the soak, how many times offenders were
dropped, and how many log lines say `... for overcoming of output buffer limits.`.

Python 3 standard library only; 127.0.0.1 only; every loop is bounded by the phase's
deadline; the servers it starts are stopped by PID. Not part of the normal test run.
"""

import argparse
import os
import resource
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time

VALUE_LEN = 1024
DEPTH = 16
GET = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
REPLY_LEN = len(b"$%d\r\n" % VALUE_LEN) + VALUE_LEN + 2
LIMIT = "normal 8mb 4mb 10"
DROP_LINE = "for overcoming of output buffer limits."


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def status_bytes(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = need if hard == resource.RLIM_INFINITY else min(max(soft, need), hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        sys.exit(f"need {need} open files, the hard limit allows {soft}")


def start(binary, port, workdir):
    log = open(os.path.join(workdir, "server.log"), "wb")
    # The server runs in its own dir: a relative path is resolved here first.
    binary = binary if os.sep not in binary else os.path.abspath(binary)
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", workdir, "--daemonize", "no", "--client-output-buffer-limit", LIMIT, "--maxclients", "4096"]
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"SET k " + b"v" * VALUE_LEN + b"\r\n")
                if s.recv(16) == b"+OK\r\n":
                    return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    proc.wait()
    sys.exit(f"{binary} did not start")


class Good:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setblocking(False)
        self.expect = 0
        self.got = 0
        self.done = 0


class Offender:
    def __init__(self, port):
        self.port = port
        self.connect()

    def connect(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port))
        self.sock.setblocking(False)


def offend(port, count, seconds):
    """The never-readers, in a process of their own (so that the readers' loop measures
    the server, not this script's time spent flooding it): each pipelines GETs and never
    reads, and reconnects whenever the server drops it. Returns how many drops it saw."""
    sel = selectors.DefaultSelector()
    offenders = [Offender(port) for _ in range(count)]
    for o in offenders:
        sel.register(o.sock, selectors.EVENT_WRITE, o)
    burst = GET * 256
    drops = 0
    end = time.time() + seconds
    while time.time() < end:
        for key, _ in sel.select(timeout=0.1):
            peer = key.data
            try:
                peer.sock.send(burst)
            except BlockingIOError:
                pass
            except OSError:
                # EPIPE / ECONNRESET: the server dropped it. It comes back.
                drops += 1
                sel.unregister(peer.sock)
                peer.sock.close()
                peer.connect()
                sel.register(peer.sock, selectors.EVENT_WRITE, peer)
    for o in offenders:
        o.sock.close()
    return drops


def phase(port, pid, goods, offenders, seconds, samples):
    """Runs one phase; returns the GETs answered to the well-behaved clients and how many
    times an offender found itself dropped."""
    child, drops_pipe = None, None
    if offenders:
        r, w = os.pipe()
        child = os.fork()
        if child == 0:
            os.close(r)
            try:
                drops = offend(port, offenders, seconds)
                os.write(w, str(drops).encode())
            finally:
                os._exit(0)
        os.close(w)
        drops_pipe = r
    sel = selectors.DefaultSelector()
    for g in goods:
        g.done = 0
        g.sock.send(GET * DEPTH)
        g.expect = DEPTH * REPLY_LEN
        g.got = 0
        sel.register(g.sock, selectors.EVENT_READ, g)
    end = time.time() + seconds
    next_sample = time.time()
    while time.time() < end:
        if time.time() >= next_sample:
            samples.append(status_bytes(pid, "VmRSS"))
            next_sample += 0.5
        for key, _ in sel.select(timeout=0.1):
            peer = key.data
            try:
                data = peer.sock.recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                sys.exit("the server dropped a well-behaved client")
            peer.got += len(data)
            if peer.got >= peer.expect:
                peer.done += DEPTH
                peer.got -= peer.expect
                peer.sock.send(GET * DEPTH)
    sel.close()
    drops = 0
    if child:
        os.waitpid(child, 0)
        drops = int(os.read(drops_pipe, 64) or b"0")
        os.close(drops_pipe)
    # Drain what is in flight so the next phase starts clean.
    for g in goods:
        g.sock.setblocking(True)
        g.sock.settimeout(10)
        while g.got < g.expect:
            data = g.sock.recv(1 << 20)
            if not data:
                sys.exit("the server dropped a well-behaved client")
            g.got += len(data)
        g.sock.setblocking(False)
    return sum(g.done for g in goods), drops


def soak(name, binary, args):
    workdir = tempfile.mkdtemp(prefix=f"soak-{name}-")
    port = free_port()
    proc = start(binary, port, workdir)
    try:
        good_count = args.clients - args.offenders
        goods = [Good(port) for _ in range(good_count)]
        base_samples = []
        base, _ = phase(port, proc.pid, goods, 0, args.baseline, base_samples)
        base_hwm = status_bytes(proc.pid, "VmHWM")
        samples = []
        done, drops = phase(port, proc.pid, goods, args.offenders, args.seconds, samples)
        hwm = status_bytes(proc.pid, "VmHWM")
        rss_end = status_bytes(proc.pid, "VmRSS")
        for g in goods:
            g.sock.close()
    finally:
        proc.kill()
        proc.wait()
    with open(os.path.join(workdir, "server.log"), errors="replace") as f:
        lines = [l for l in f if DROP_LINE in l]
    shutil.rmtree(workdir, ignore_errors=True)
    mib = 1 << 20
    print(f"== {name} ({binary})")
    print(f"   baseline, {good_count} readers only, {args.baseline}s: {base / args.baseline:,.0f} GET/s; VmHWM {base_hwm / mib:.1f} MiB")
    print(f"   soak, {good_count} readers + {args.offenders} never-readers, {args.seconds}s: {done / args.seconds:,.0f} GET/s "
          f"({100 * (done / args.seconds) / max(base / args.baseline, 1):.0f}% of baseline)")
    print(f"   RSS during the soak: max {max(samples) / mib:.1f} MiB, last {samples[-1] / mib:.1f} MiB; VmHWM {hwm / mib:.1f} MiB; "
          f"at the end {rss_end / mib:.1f} MiB")
    print(f"   offenders dropped: {drops} times; log lines '{DROP_LINE}': {len(lines)}")
    if lines:
        print(f"   first: {lines[0].strip()[:160]} ... {lines[0].strip()[-80:]}")
    return {"base": base / args.baseline, "soak": done / args.seconds, "hwm": hwm, "drops": drops, "lines": len(lines)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--baseline", type=int, default=20)
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--offenders", type=int, default=50)
    p.add_argument("--server", default="target/release-native/replscope-server")
    p.add_argument("--redis", default="redis-server")
    p.add_argument("--no-redis", action="store_true")
    args = p.parse_args()
    if not 0 < args.seconds <= 600 or not 0 < args.baseline <= 600:
        sys.exit("--seconds and --baseline: 1 to 600")
    if not 0 <= args.offenders < args.clients <= 3000:
        sys.exit("--clients: up to 3000, more than --offenders")
    # Clients and the server's sockets in this process tree, with room to spare; the
    # servers inherit the limit.
    raise_fd_limit(2 * args.clients + 256)
    results = {"replscope-server": soak("replscope-server", args.server, args)}
    if not args.no_redis and shutil.which(args.redis):
        results["redis-server"] = soak("redis-server", args.redis, args)
    ok = all(r["drops"] > 0 and r["lines"] > 0 for r in results.values())
    print("offenders dropped with Redis's log line on every server" if ok else "NOT every server dropped its offenders")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
