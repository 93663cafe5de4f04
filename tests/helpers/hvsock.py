#!/usr/bin/env python3
"""The host's end of the vsock tests (tests/vm/vsock.sh): talks to the
guest's vsock-peer (tests/helpers/vsock-peer.c) through a hybrid vsock
socket (porthole-vsockd's --uds-path). Each subcommand prints one line and
exits 0 when what came back is what was expected, 1 otherwise.

  hvsock.py sink SOCK PORT BYTES        host to guest, checked by crc32
  hvsock.py source SOCK PORT BYTES SEED guest to host, checked by crc32
  hvsock.py echo SOCK PORT CONNS        CONNS connections at once, echoed
  hvsock.py halfclose SOCK PORT         each side's EOF reaches the other
  hvsock.py connect SOCK PORT           the CONNECT line's answer, or "closed"
  hvsock.py raw SOCK LINE               sends LINE as is: the answer, or "closed"
  hvsock.py guestclose SOCK PORT        the guest closes while the host sends
  hvsock.py listen PATH                 a host socket for the guest's connection:
                                        counts what comes, answers "<bytes> <crc>"
  hvsock.py hold SOCK PORT N            N connections left open; prints "open",
                                        then waits for each to end (EOF or error)

scripts/bench-vsock.py imports it for open_stream(): the same guest program
reached over porthole-vsockd, the kernel's vhost-vsock or a virtio-serial port.
"""
import os
import selectors
import socket
import sys
import time
import zlib

TIMEOUT = 120


def pattern_block(seed):
    x, b = seed, bytearray(65536)
    for i in range(65536):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        b[i] = x >> 24
    return bytes(b)


def pattern_crc(n, seed):
    block, crc = pattern_block(seed), 0
    while n:
        k = min(n, len(block))
        crc = zlib.crc32(block[:k], crc)
        n -= k
    return crc


def connect(sock, port, timeout=TIMEOUT):
    """A connection to guest PORT through the hybrid socket: (socket, answer)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock)
    s.sendall(b"CONNECT %d\n" % port)
    answer = b""
    while not answer.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            s.close()
            return None, answer.decode(errors="replace") or "closed"
        answer += c
        if len(answer) > 32:
            break
    return s, answer.decode(errors="replace").strip()


def must_connect(sock, port):
    s, answer = connect(sock, port)
    if s is None or not answer.startswith("OK "):
        sys.exit(f"CONNECT {port}: {answer}")
    return s


def open_stream(address, timeout=TIMEOUT):
    """A byte stream to the guest: hvsock:PATH:PORT (a hybrid vsock socket),
    vsock:CID:PORT (AF_VSOCK, the kernel's vhost-vsock) or unix:PATH (a
    virtio-serial port's socket). Exits with the reason when it cannot."""
    kind, _, rest = address.partition(":")
    try:
        if kind == "hvsock":
            path, _, port = rest.rpartition(":")
            s, answer = connect(path, int(port), timeout)
            if s is None or not answer.startswith("OK "):
                sys.exit(f"{address}: CONNECT answered {answer!r}")
            return s
        if kind == "vsock":
            cid, _, port = rest.partition(":")
            s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
            s.settimeout(timeout)
            s.connect((int(cid), int(port)))
            return s
        if kind == "unix":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout)
            s.connect(rest)
            return s
    except (OSError, ValueError) as e:
        sys.exit(f"{address}: {e}")
    sys.exit(f"{address}: not hvsock:PATH:PORT, vsock:CID:PORT or unix:PATH")


def recv_all(s):
    data = bytearray()
    while True:
        b = s.recv(65536)
        if not b:
            return bytes(data)
        data += b


def rate(n, t):
    return f"{n / max(t, 1e-9) / 1e6:.1f} MB/s"


def sink(sock, port, n):
    s = must_connect(sock, port)
    s.sendall(b"sink\n")
    block, crc, left = os.urandom(65536), 0, n
    t0 = time.monotonic()
    while left:
        k = min(left, len(block))
        s.sendall(block[:k])
        crc = zlib.crc32(block[:k], crc)
        left -= k
    s.shutdown(socket.SHUT_WR)
    answer = recv_all(s).decode().strip()
    t = time.monotonic() - t0
    want = f"{n} {crc:08x}"
    print(f"sink: {n} bytes in {t:.2f} s ({rate(n, t)}); guest counted {answer!r}, sent {want!r}")
    return answer == want


def source(sock, port, n, seed):
    s = must_connect(sock, port)
    t0 = time.monotonic()
    s.sendall(b"source %d %d\n" % (n, seed))
    crc, got = 0, 0
    while True:
        b = s.recv(65536)
        if not b:
            break
        crc = zlib.crc32(b, crc)
        got += len(b)
    t = time.monotonic() - t0
    want = pattern_crc(n, seed)
    print(f"source: {got} bytes in {t:.2f} s ({rate(got, t)}), crc32 {crc:08x}, expected {n} bytes {want:08x}")
    return got == n and crc == want


def echo(sock, port, conns):
    sel = selectors.DefaultSelector()
    want, got = {}, {}
    for i in range(conns):
        s = must_connect(sock, port)
        msg = b"echo\n" + (b"connection %d " % i) * 50
        s.sendall(msg)
        s.shutdown(socket.SHUT_WR)
        s.setblocking(False)
        want[s] = msg[5:]
        got[s] = bytearray()
        sel.register(s, selectors.EVENT_READ)
    deadline = time.monotonic() + TIMEOUT
    open_ = conns
    while open_ and time.monotonic() < deadline:
        for key, _ in sel.select(1):
            b = key.fileobj.recv(65536)
            if b:
                got[key.fileobj] += b
            else:
                sel.unregister(key.fileobj)
                open_ -= 1
    good = sum(1 for s in want if bytes(got[s]) == want[s])
    print(f"echo: {good} of {conns} connections at once echoed whole, {open_} still open")
    return good == conns


def halfclose(sock, port):
    # host to guest EOF: the guest's echo ends only when it sees it
    s = must_connect(sock, port)
    s.sendall(b"echo\nhello")
    s.shutdown(socket.SHUT_WR)
    back = recv_all(s)
    # guest to host EOF: the source shuts down its sending and then waits
    # for ours, so the host still writes after reading EOF
    t = must_connect(sock, port)
    t.sendall(b"source 1000 1\n")
    data = recv_all(t)
    t.sendall(b"still writable after EOF")
    t.shutdown(socket.SHUT_WR)
    rest = recv_all(t)
    ok = back == b"hello" and len(data) == 1000 and rest == b""
    print(f"halfclose: echo {back!r} after our EOF; source {len(data)} bytes then EOF, "
          f"and we could still send: {ok}")
    return ok


def guestclose(sock, port):
    s = must_connect(sock, port)
    s.sendall(b"close\n")
    t0 = time.monotonic()
    end = "EOF"
    try:
        for _ in range(1000):
            s.sendall(b"x" * 65536)
    except (BrokenPipeError, ConnectionResetError) as e:
        end = type(e).__name__
    if end == "EOF":
        try:
            if s.recv(1) != b"":
                end = "data"
        except ConnectionResetError:
            end = "ConnectionResetError"
    t = time.monotonic() - t0
    print(f"guestclose: the guest closed; the host saw {end} after {t:.2f} s")
    return end in ("EOF", "BrokenPipeError", "ConnectionResetError")


def listen(path):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(TIMEOUT)
    print("listening", flush=True)
    c, _ = srv.accept()
    c.settimeout(TIMEOUT)
    crc, n = 0, 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        crc = zlib.crc32(b, crc)
        n += len(b)
    c.sendall(b"%d %08x\n" % (n, crc))
    c.close()
    print(f"listen: {n} bytes from the guest, crc32 {crc:08x}")
    return True


def hold(sock, port, n):
    conns = [must_connect(sock, port) for _ in range(n)]
    for s in conns:
        s.sendall(b"echo\n")
    print("open", flush=True)
    ends = []
    for s in conns:
        try:
            b = s.recv(1)
            ends.append("EOF" if not b else "data")
        except OSError as e:
            ends.append(type(e).__name__)
    print(f"hold: {n} connections ended: {sorted(set(ends))}")
    return "data" not in ends


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "sink":
        return sink(args[0], int(args[1]), int(args[2]))
    if cmd == "source":
        return source(args[0], int(args[1]), int(args[2]), int(args[3]))
    if cmd == "echo":
        return echo(args[0], int(args[1]), int(args[2]))
    if cmd == "halfclose":
        return halfclose(args[0], int(args[1]))
    if cmd == "guestclose":
        return guestclose(args[0], int(args[1]))
    if cmd == "connect":
        s, answer = connect(args[0], int(args[1]), timeout=30)
        print(answer)
        return True
    if cmd == "raw":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(args[0])
        s.sendall(args[1].encode().decode("unicode_escape").encode("latin-1"))
        try:
            print(recv_all(s).decode(errors="replace").strip() or "closed")
        except OSError as e:
            print(f"closed ({e.strerror})")
        return True
    if cmd == "listen":
        return listen(args[0])
    if cmd == "hold":
        return hold(args[0], int(args[1]), int(args[2]))
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv) else 1)
