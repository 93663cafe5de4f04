#!/usr/bin/env python3
"""Whether one slow command holds up another client (tests/sandbox/nonblocking.sh,
tests/vm/nonblocking.sh): sends REQUEST on one connection to the agent, then
guest-pings on another, one at a time, until REQUEST's reply comes, and 3
pings more. Prints

  BEFORE AFTER MEDIAN_MS P99_MS MAX_MS SLOW_S
  <the slow request's reply>

BEFORE: pings answered while the slow request was outstanding; the latencies
are of every ping. Figures for the report, no threshold: the tests assert the
order (pings answered, then the slow reply). Exits 1 when a ping is not
answered with {} or the slow reply does not come within --timeout seconds.

  pingprobe.py SLOW_ADDR PING_ADDR REQUEST [--timeout S]

ADDR is unix:PATH, or hvsock:PATH:PORT (a hybrid vsock socket: porthole-vsockd's,
Firecracker's: "CONNECT PORT\\n", then "OK ...\\n").
"""
import json
import select
import socket
import statistics
import sys
import time


def connect(addr, timeout):
    kind, _, rest = addr.partition(":")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if kind == "unix":
        s.connect(rest)
        return s
    if kind != "hvsock":
        sys.exit(f"pingprobe: {addr}: unix:PATH or hvsock:PATH:PORT")
    path, _, port = rest.rpartition(":")
    s.connect(path)
    s.sendall(f"CONNECT {port}\n".encode())
    ack = b""
    while not ack.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            sys.exit(f"pingprobe: {addr}: closed after CONNECT")
        ack += c
    if not ack.startswith(b"OK "):
        sys.exit(f"pingprobe: {addr}: CONNECT answered {ack!r}")
    return s


def line(s, buf, timeout):
    while b"\n" not in buf[0]:
        r, _, _ = select.select([s], [], [], timeout)
        if not r:
            sys.exit(f"pingprobe: no reply within {timeout} s")
        data = s.recv(65536)
        if not data:
            sys.exit("pingprobe: connection closed")
        buf[0] += data
    out, buf[0] = buf[0].split(b"\n", 1)
    # a virtio-serial port may hold a 0xFF or an old reply's tail: the
    # tests send guest-sync-delimited first to be at a clean start
    return out.lstrip(b"\xff").decode()


def resync(s, buf, timeout):
    """guest-sync-delimited with a fresh id: what came before it is skipped."""
    ident = int(time.monotonic() * 1000) % 1000000007
    s.sendall(b"\xff" + json.dumps({"execute": "guest-sync-delimited",
                                    "arguments": {"id": ident}}).encode())
    while True:
        try:
            if json.loads(line(s, buf, timeout)).get("return") == ident:
                return
        except ValueError:
            pass


def main():
    args = sys.argv[1:]
    timeout = 60.0
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 3:
        sys.exit(__doc__)
    slow_addr, ping_addr, request = args
    slow, fast = connect(slow_addr, timeout), connect(ping_addr, timeout)
    sbuf, fbuf = [b""], [b""]
    resync(slow, sbuf, timeout)
    resync(fast, fbuf, timeout)
    t0 = time.monotonic()
    slow.sendall(request.encode())
    before, after, lat, reply, slow_s = 0, 0, [], None, None
    deadline = t0 + timeout
    while after < 3:
        if time.monotonic() > deadline:
            sys.exit(f"pingprobe: the slow request had no reply within {timeout} s")
        t = time.monotonic()
        fast.sendall(b'{"execute": "guest-ping"}')
        got = line(fast, fbuf, timeout)
        if json.loads(got) != {"return": {}}:
            sys.exit(f"pingprobe: a ping was answered with {got}")
        lat.append((time.monotonic() - t) * 1000)
        if reply is None:
            r, _, _ = select.select([slow], [], [], 0)
            if r or b"\n" in sbuf[0]:
                reply = line(slow, sbuf, timeout)
                slow_s = time.monotonic() - t0
            else:
                before += 1
        else:
            after += 1
    lat.sort()
    print(before, after, "%.2f" % statistics.median(lat), "%.2f" % lat[int(len(lat) * 0.99)],
          "%.2f" % lat[-1], "%.2f" % slow_s)
    print(reply)


main()
