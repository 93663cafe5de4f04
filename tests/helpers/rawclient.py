#!/usr/bin/env python3
"""Raw byte-level client for the agent tests: sends exactly the bytes given and
prints exactly what comes back, so tests can check framing, resync and errors.

  rawclient.py SOCKET send BYTES [--quiet-ms MS]
      BYTES is a Python bytes literal body (escapes allowed: \\xff, \\n);
      prints the reply bytes as repr() once the agent is quiet for MS (default 300)
  rawclient.py SOCKET flood MEGABYTES
      sends MEGABYTES of malformed input ({"execute":"aaaa... never closed) then
      0xFF and a guest-sync-delimited, prints the reply to that
  rawclient.py SOCKET pipeline N
      0xFF then N guest-info requests (ids 0 to N-1) in one write; prints how
      many of them were answered within 10 s
  rawclient.py SOCKET clients N
      N clients in turn, three kinds mixed: connect and send nothing; send half a
      request and vanish; send requests and never read the replies. Keeps at most
      200 open at once (closed oldest first). Prints "done N"
"""
import socket
import sys
import time


def connect(path):
    # A full listen queue answers EAGAIN at once on a unix socket: retry,
    # bounded, as the agent drains it.
    for _ in range(5000):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            time.sleep(0.002)
    sys.exit(f"rawclient: {path}: listen queue stayed full for 10 s")


def read_quiet(s, quiet_ms, limit=1 << 24):
    s.settimeout(quiet_ms / 1000)
    buf = b""
    while len(buf) < limit:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        buf += d
    return buf


def cmd_send(path, body, quiet_ms):
    data = body.encode("latin-1").decode("unicode_escape").encode("latin-1")
    s = connect(path)
    s.sendall(data)
    print(repr(read_quiet(s, quiet_ms)))


def cmd_flood(path, megabytes):
    s = connect(path)
    s.sendall(b'{"execute":"')
    chunk = b"a" * 65536
    for _ in range(megabytes * 16):
        s.sendall(chunk)
    s.sendall(b'\xff{"execute":"guest-sync-delimited","arguments":{"id":4242}}')
    s.settimeout(30)
    buf = b""
    while b"4242}" not in buf:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    print(repr(buf[buf.rfind(b"\xff"):]))


def cmd_pipeline(path, n):
    s = connect(path)
    s.sendall(b"\xff" + b"".join(b'{"execute":"guest-info","id":%d}' % i for i in range(n)))
    s.settimeout(10)
    buf = b""
    try:
        while buf.count(b"\n") < n + 1:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except socket.timeout:
        pass
    print(sum(1 for i in range(n) if b'"id": %d}' % i in buf))


def cmd_clients(path, n):
    open_socks = []
    refused = 0
    for i in range(n):
        s = connect(path)
        kind = i % 3
        try:
            if kind == 1:
                s.sendall(b'{"execute":"guest-sy')
                s.close()
                continue
            if kind == 2:
                s.sendall(b'{"execute":"guest-info"}' * 4)
        except OSError:
            # refused over the agent's client limit: closed at once, as it should
            refused += 1
        open_socks.append(s)
        if len(open_socks) > 200:
            open_socks.pop(0).close()
    for s in open_socks:
        s.close()
    print("done", n, "refused", refused)


def main(argv):
    path, verb = argv[0], argv[1]
    if verb == "send":
        quiet = int(argv[4]) if len(argv) > 4 and argv[3] == "--quiet-ms" else 300
        cmd_send(path, argv[2], quiet)
    elif verb == "flood":
        cmd_flood(path, int(argv[2]))
    elif verb == "pipeline":
        cmd_pipeline(path, int(argv[2]))
    elif verb == "clients":
        cmd_clients(path, int(argv[2]))
    else:
        sys.exit(f"rawclient: unknown verb {verb}")


if __name__ == "__main__":
    main(sys.argv[1:])
