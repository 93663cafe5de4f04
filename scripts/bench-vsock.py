#!/usr/bin/env python3
"""The host side of scripts/bench-vsock: the same guest program
(tests/helpers/vsock-peer) reached over several transports of one VM, measured
one after the other in each round, so that all see the same machine at nearly
the same moment.

  bench-vsock.py run RESULTS --console SOCK --qemu-pid PID --mb MB --rounds R
                     --pings K NAME=ADDRESS[@BACKEND_PID]...
      appends one JSON line per measurement to RESULTS. ADDRESS is
      hvsock:PATH:PORT, vsock:CID:PORT or unix:PATH (tests/helpers/hvsock.py's
      open_stream); BACKEND_PID is the process that carries the bytes besides
      QEMU (porthole-vsockd), whose CPU is measured too.
  bench-vsock.py ready ADDRESS
      waits (60 s at most) until the guest program answers at ADDRESS.
  bench-vsock.py report RESULTS
      prints the table: medians of the rounds, ratios to virtio-serial.

Each round and transport: N bytes host to guest ("count N": the guest counts,
no checksum, which would cost the emulated guest more than the transport),
N bytes guest to host ("source N SEED", not checked either), and K round trips
of 64 bytes ("pingpong K 64"). Before the rounds, each transport carries 4 MiB
each way checked by crc32. Around each measurement: the CPU time of the
back-end, of QEMU's main thread and of its other threads (the vCPUs) and of
this program, from /proc/PID/task/TID/schedstat (nanoseconds; stat's utime +
stime where the kernel keeps no schedstats); the host's busy time from
/proc/stat (what other processes took is reported); and the guest's CPU time,
context switches, the device's interrupts and the IPIs, read through the
serial console outside the timed part.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import zlib

REPO = os.path.realpath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "helpers"))
sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
import hvsock  # noqa: E402  (the tests' host end: open_stream, pattern_crc)

HZ = os.sysconf("SC_CLK_TCK")
CHECK_BYTES = 4 << 20
PING_SIZE = 64
DEVICE_IDS = {"0x0013": "vsock", "0x0003": "serial"}


## host-side readings ########################################################


def thread_cpu(pid, tid):
    """A thread's CPU seconds: /proc/PID/task/TID/schedstat's run time (ns),
    or utime + stime of its stat (clock ticks) without schedstats; 0 when gone."""
    base = f"/proc/{pid}/task/{tid}/"
    try:
        with open(base + "schedstat") as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(base + "stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / HZ
    except (OSError, ValueError, IndexError):
        return 0.0


def proc_cpu(pid):
    """A process's CPU seconds, all its threads."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0
    return sum(thread_cpu(pid, t) for t in tids)


def host_busy():
    """The host's busy CPU seconds, all CPUs (/proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / HZ


def host_sample(qemu_pid, backend_pid):
    main = thread_cpu(qemu_pid, qemu_pid)
    qemu = proc_cpu(qemu_pid)
    return {
        "backend": proc_cpu(backend_pid) if backend_pid else 0.0,
        "qemu_main": main,
        "qemu_other": qemu - main,
        "client": time.process_time(),
        "host_busy": host_busy(),
    }


## guest-side readings, through the console ####################################


def console(sock, command):
    out = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "console"), sock,
                          "--timeout", "60", "--run", command],
                         capture_output=True, text=True, timeout=90)
    # (scripts/console takes the kernel's messages out of what it prints)
    return out.stdout.splitlines()


def guest_devices(sock):
    """virtioN names of the vsock and the console devices."""
    names = {}
    listing = "for d in /sys/bus/virtio/devices/*; do echo ${d##*/} $(cat $d/device); done"
    for line in console(sock, listing):
        f = line.split()
        if len(f) == 2 and f[1] in DEVICE_IDS:
            names[DEVICE_IDS[f[1]]] = f[0]
    return names


def guest_sample(sock, devices):
    r = {"cpu": 0.0, "sys": 0.0, "ctxt": 0, "ipi": 0}
    for d in devices:
        r["intr_" + d] = 0
    ncpu = 0
    for line in console(sock, "cat /proc/stat /proc/interrupts"):
        f = line.split()
        if not f:
            continue
        if f[0] == "cpu" and len(f) >= 8:
            v = [int(x) for x in f[1:8]]
            r["cpu"] = (v[0] + v[1] + v[2] + v[5] + v[6]) / 100  # USER_HZ
            r["sys"] = v[2] / 100
        elif f[0] == "ctxt":
            r["ctxt"] = int(f[1])
        elif f[0] == "CPU0":
            ncpu = len(f)
        elif ncpu and f[0].endswith(":"):
            counts = [int(x) for x in f[1:1 + ncpu] if x.isdigit()]
            if f[0] in ("CAL:", "RES:"):
                r["ipi"] += sum(counts)
            for d, name in devices.items():
                if f[-1].startswith(name + "-"):
                    r["intr_" + d] += sum(counts)
    return r


def delta(a, b):
    return {k: b[k] - a[k] for k in b}


## the measurements ###########################################################


def read_line(s):
    line = b""
    while not line.endswith(b"\n"):
        c = s.recv(1)
        if not c or len(line) > 100:
            raise OSError(f"the guest's answer ended early: {line!r}")
        line += c
    return line.decode().strip()


def check(address):
    """4 MB each way with crc32: the transport carries the right bytes."""
    s = hvsock.open_stream(address)
    data = os.urandom(CHECK_BYTES)
    s.sendall(b"sink %d\n" % len(data) + data)
    answer = read_line(s)
    s.close()
    want = "%d %08x" % (len(data), zlib.crc32(data))
    if answer != want:
        sys.exit(f"{address}: host to guest: the guest counted {answer!r}, we sent {want!r}")
    s = hvsock.open_stream(address)
    s.sendall(b"source %d 11\n" % CHECK_BYTES)
    crc, got, buf = 0, 0, bytearray(1 << 16)
    while got < CHECK_BYTES:
        n = s.recv_into(buf, min(len(buf), CHECK_BYTES - got))
        if not n:
            break
        crc = zlib.crc32(buf[:n], crc)
        got += n
    s.close()
    if (got, crc) != (CHECK_BYTES, hvsock.pattern_crc(CHECK_BYTES, 11)):
        sys.exit(f"{address}: guest to host: {got} bytes, crc32 {crc:08x}, not the pattern's")


def to_guest(s, n, block):
    view = memoryview(block)
    t0 = time.perf_counter()
    s.sendall(b"count %d\n" % n)
    left = n
    while left:
        k = min(left, len(view))
        s.sendall(view[:k])
        left -= k
    answer = read_line(s)
    t = time.perf_counter() - t0
    if answer != str(n):
        raise OSError(f"host to guest: the guest counted {answer!r} of {n}")
    return t


def to_host(s, n, buf):
    t0 = time.perf_counter()
    s.sendall(b"source %d 3\n" % n)
    got = 0
    while got < n:
        k = s.recv_into(buf, min(len(buf), n - got))
        if not k:
            raise OSError(f"guest to host: EOF after {got} of {n} bytes")
        got += k
    return time.perf_counter() - t0


def round_trips(s, k):
    msg = bytes(range(PING_SIZE))
    s.sendall(b"pingpong %d %d\n" % (k, PING_SIZE))
    samples = []
    for _ in range(k):
        t0 = time.perf_counter_ns()
        s.sendall(msg)
        got = b""
        while len(got) < PING_SIZE:
            b = s.recv(PING_SIZE - len(got))
            if not b:
                raise OSError("round trips: EOF")
            got += b
        samples.append((time.perf_counter_ns() - t0) / 1e3)
        if got != msg:
            raise OSError("round trips: the bytes came back changed")
    return samples


def ready(address):
    """A vsock port refuses until the guest listens: try again. A serial
    port's bytes wait in QEMU until the guest opens it: one try, waiting
    (a second would leave the first's command for the guest to answer)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            s = hvsock.open_stream(address, timeout=max(1, deadline - time.monotonic()))
            s.sendall(b"count 0\n")
            answer = read_line(s)
            s.close()
            if answer == "0":
                return
            sys.exit(f"bench-vsock: {address}: the guest answered {answer!r} to 'count 0'")
        except (SystemExit, OSError) as e:
            if address.startswith("unix:") or time.monotonic() > deadline:
                sys.exit(f"bench-vsock: {address}: no answer from the guest within 60 s ({e})")
        time.sleep(0.5)


def run(a):
    transports = []
    for spec in a.transport:
        name, _, rest = spec.partition("=")
        address, _, pid = rest.partition("@")
        transports.append((name, address, int(pid) if pid else 0))
    devices = guest_devices(a.console)
    n = a.mb * 1000 * 1000
    block, buf = os.urandom(1 << 18), bytearray(1 << 20)
    for name, address, _ in transports:
        check(address)
        print(f"  {name}: {CHECK_BYTES >> 20} MiB each way, checked by crc32", flush=True)
    with open(a.results, "a") as out:
        for r in range(a.rounds):
            # each round starts with the next transport
            order = transports[r % len(transports):] + transports[:r % len(transports)]
            for name, address, pid in order:
                for test in ("to_guest", "to_host", "rtt"):
                    s = hvsock.open_stream(address)
                    g0, h0 = guest_sample(a.console, devices), host_sample(a.qemu_pid, pid)
                    rec = {"transport": name, "round": r, "test": test}
                    if test == "to_guest":
                        rec["seconds"], rec["bytes"] = to_guest(s, n, block), n
                    elif test == "to_host":
                        rec["seconds"], rec["bytes"] = to_host(s, n, buf), n
                    else:
                        t0 = time.perf_counter()
                        rec["samples_us"] = round_trips(s, a.pings)
                        rec["seconds"] = time.perf_counter() - t0
                    h1 = host_sample(a.qemu_pid, pid)
                    s.close()
                    g1 = guest_sample(a.console, devices)
                    rec["host"], rec["guest"] = delta(h0, h1), delta(g0, g1)
                    rec["host_cpus"] = os.cpu_count()
                    out.write(json.dumps(rec) + "\n")
                    out.flush()
                    if test == "rtt":
                        q = sorted(rec["samples_us"])
                        what = "p50 %.0f us" % q[len(q) // 2]
                    else:
                        what = "%.1f MB/s" % (n / rec["seconds"] / 1e6)
                    print(f"  round {r + 1}: {name:<8} {test:<9} {what}", flush=True)


## the report #################################################################


PARTS = ("backend", "qemu_main", "qemu_other", "client")  # what host_sample reads of ours


def rate(r):
    return r["bytes"] / r["seconds"] / 1e6


def per_gb(key, where="host"):
    return lambda r: r[where][key] / (r["bytes"] / 1e9)


def per_mb(key):
    return lambda r: r["guest"][key] / (r["bytes"] / 1e6)


def per_rtt(f):
    return lambda r: f(r) / len(r["samples_us"])


def busy(f):
    """a share of the wall time, in % of one core"""
    return lambda r: 100 * f(r) / r["seconds"]


def device_intr(r):
    return r["guest"].get("intr_" + ("serial" if r["transport"] == "serial" else "vsock"), 0)


def others_busy(r):
    return r["host"]["host_busy"] - sum(r["host"][k] for k in PARTS)


def report(a):
    with open(a.results) as f:
        recs = [json.loads(line) for line in f]
    names, by = [], {}
    for r in recs:
        if r["transport"] not in names:
            names.append(r["transport"])
        by.setdefault((r["transport"], r["test"]), []).append(r)
    others = [x for x in names if x != "serial"]

    def med(name, test, f):
        v = [f(r) for r in by.get((name, test), [])]
        return statistics.median(v) if v else None

    def pct(name, q):
        v = sorted(x for r in by.get((name, "rtt"), []) for x in r["samples_us"])
        return v[min(len(v) - 1, int(len(v) * q))] if v else None

    def backend_only(f):
        return lambda n: f(n) if n == "vsockd" else None

    rows = [
        ("throughput, MB/s", None),
        ("  host to guest", lambda n: med(n, "to_guest", rate)),
        ("  guest to host", lambda n: med(n, "to_host", rate)),
        ("round trip of %d bytes, us (all rounds' samples)" % PING_SIZE, None),
        ("  p50", lambda n: pct(n, 0.50)),
        ("  p99", lambda n: pct(n, 0.99)),
    ]
    for test, label in (("to_guest", "host to guest"), ("to_host", "guest to host")):
        def m(f, t=test):
            return lambda n: med(n, t, f)
        rows += [
            (f"{label}, per GB moved", None),
            ("  porthole-vsockd CPU s", backend_only(m(per_gb("backend")))),
            ("  QEMU main thread CPU s", m(per_gb("qemu_main"))),
            ("  QEMU vCPU threads CPU s", m(per_gb("qemu_other"))),
            ("  guest CPU s (its /proc/stat)", m(per_gb("cpu", "guest"))),
            ("  the bench's host client CPU s", m(per_gb("client"))),
            ("  guest context switches, per MB", m(per_mb("ctxt"))),
            ("  guest IPIs, per MB", m(per_mb("ipi"))),
            ("  the device's interrupts, per MB", m(lambda r: device_intr(r) / (r["bytes"] / 1e6))),
        ]
    rows += [
        ("per round trip", None),
        ("  porthole-vsockd CPU us",
         backend_only(lambda n: med(n, "rtt", per_rtt(lambda r: r["host"]["backend"] * 1e6)))),
        ("  QEMU CPU us", lambda n: med(n, "rtt", per_rtt(
            lambda r: (r["host"]["qemu_main"] + r["host"]["qemu_other"]) * 1e6))),
        ("  guest context switches",
         lambda n: med(n, "rtt", per_rtt(lambda r: r["guest"]["ctxt"]))),
    ]

    head = "%-40s" % "" + "".join("%10s" % x for x in names) + "".join(
        "%15s" % (x + "/serial") for x in others)
    print(head)
    print("-" * len(head))
    for label, f in rows:
        if f is None:
            print(label)
            continue
        vals = {x: f(x) for x in names}
        line = "%-40s" % label
        for x in names:
            v = vals[x]
            line += "%10s" % ("-" if v is None else ("%.0f" % v if abs(v) >= 100 else "%.2f" % v))
        for x in others:
            v, s = vals[x], vals.get("serial")
            line += "%15s" % ("-" if v is None or not s else "%.2f" % (v / s))
        print(line)

    # where the time went: each party's share of the wall time of the transfers
    print()
    print("busy during the transfers (CPU time / wall time; 100% = one host core), medians:")
    for x in names:
        for test, label in (("to_guest", "host to guest"), ("to_host", "guest to host")):
            def share(f, x=x, test=test):
                return "%3.0f%%" % med(x, test, busy(f))
            parts = []
            if x == "vsockd":
                parts.append("porthole-vsockd " + share(lambda r: r["host"]["backend"]))
            parts += ["QEMU main " + share(lambda r: r["host"]["qemu_main"]),
                      "vCPUs " + share(lambda r: r["host"]["qemu_other"]),
                      "client " + share(lambda r: r["host"]["client"]),
                      "guest " + share(lambda r: r["guest"]["cpu"]),
                      "other host processes " + share(lambda r: max(0.0, others_busy(r)))]
            print("  %-8s %-14s %s" % (x, label, ", ".join(parts)))
    print(f"  (host: {recs[0]['host_cpus']} CPUs; the guest's figure is its own CPU time, "
          "all vCPUs together)")
    worst = max((busy(others_busy)(r) for r in recs if r["test"] != "rtt"), default=0)
    if worst > 25:
        print("  other processes took up to %.0f%% of a core during a transfer: this run's "
              "figures are less comparable than usual; run it again on a quiet host" % worst)

    # the measured reason, from the figures above: who was busy, and what
    # the guest did for each MB on either transport
    if "serial" not in names:
        return
    print()
    for x in others:
        for test, label in (("to_guest", "host to guest"), ("to_host", "guest to host")):
            v, s = med(x, test, rate), med("serial", test, rate)
            line = "%s, %s: %.2f of what virtio-serial carries" % (x, label, v / s)
            if v >= s:
                print(line + ", at least as much")
                continue
            if x == "vsockd":
                be = med(x, test, busy(lambda r: r["host"]["backend"]))
                line += ("; porthole-vsockd busy %.0f%% of one core: %s" %
                         (be, "saturated" if be >= 90 else "not what limits"))
            g = [med(t, test, per_gb("cpu", "guest")) for t in (x, "serial")]
            c = [med(t, test, per_mb("ctxt")) for t in (x, "serial")]
            i = [med(t, test, device_intr) for t in (x, "serial")]

            def times(p):
                if not p[1]:
                    return "%.0f against 0" % p[0]
                return ("%.1fx" if p[0] < 10 * p[1] else "%.0fx") % (p[0] / p[1])
            line += ("; the guest: %s the CPU per GB (%.1f s against %.1f s), %s the context "
                     "switches and %s the device's interrupts per MB"
                     % (times(g), g[0], g[1], times(c), times(i)))
            print(line)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("results")
    r.add_argument("--console", required=True)
    r.add_argument("--qemu-pid", type=int, required=True)
    r.add_argument("--mb", type=int, default=200)
    r.add_argument("--rounds", type=int, default=3)
    r.add_argument("--pings", type=int, default=2000)
    r.add_argument("transport", nargs="+", help="NAME=ADDRESS[@BACKEND_PID]")
    q = sub.add_parser("report")
    q.add_argument("results")
    w = sub.add_parser("ready")
    w.add_argument("address")
    a = p.parse_args()
    try:
        if a.cmd == "run":
            run(a)
        elif a.cmd == "ready":
            ready(a.address)
        else:
            report(a)
    except OSError as e:
        sys.exit(f"bench-vsock: {e}")


if __name__ == "__main__":
    main()
