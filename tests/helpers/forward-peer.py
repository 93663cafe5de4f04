#!/usr/bin/python3
"""Both ends of what tests/sandbox/forward.sh carries through `porthole
forward ports` and porthole-relay: servers for the guest's side and clients
for the host's, each bounded by a time-out. Clients print one line that the
test checks ("ok ..." or what went wrong) and exit 0 either way.

  serve-halfclose ADDR PORT  reads each connection to its end, then answers
                             "sha256 HEX N\\n" and closes
  serve-udp-echo ADDR PORT   answers each datagram with b"echo:" + it
  serve-tcp ADDR PORT        accepts and holds connections (a busy port)
  halfclose ADDR PORT BYTES  sends BYTES random bytes, shuts down its
                             sending, reads the answer to its end
  http ADDR PORT PATH        GET PATH (HTTP/1.0), prints the body
  udp ADDR PORT SIZE...      one datagram of each SIZE, in turn, each
                             answered with its own echo (the boundaries kept)
  udp-peers ADDR PORT N      N sockets at once, each answered only its own
  udp-seq ADDR PORT N        N sockets one after the other, each kept open,
                             each answered its own
  closed ADDR PORT           connects; the connection must end unanswered
  listening ADDR PORT        whether a TCP connect there succeeds ("yes"/"no")
  bindable ADDR PORT         whether a TCP server could listen there ("yes", or
                             "no: WHY"): SO_REUSEADDR, as servers set it, so
                             that a closed connection's TIME_WAIT does not count
"""

import hashlib
import os
import socket
import sys
import threading

TIMEOUT = 10


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve_halfclose(addr, port):
    srv = socket.socket(family(addr), socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(16)

    def one(c):
        h, n = hashlib.sha256(), 0
        while True:
            d = c.recv(65536)
            if not d:
                break
            h.update(d)
            n += len(d)
        c.sendall(b"sha256 %s %d\n" % (h.hexdigest().encode(), n))
        c.close()

    while True:
        c, _ = srv.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()


def serve_udp_echo(addr, port):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        d, a = s.recvfrom(70000)
        s.sendto(b"echo:" + d, a)


def serve_tcp(addr, port):
    srv = socket.socket(family(addr), socket.SOCK_STREAM)
    srv.bind((addr, port))
    srv.listen(16)
    held = []
    while True:
        held.append(srv.accept()[0])


def halfclose(addr, port, size):
    data = os.urandom(size)
    c = socket.create_connection((addr, port), timeout=TIMEOUT)
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    answer = b""
    while True:
        d = c.recv(4096)
        if not d:
            break
        answer += d
    want = b"sha256 %s %d\n" % (hashlib.sha256(data).hexdigest().encode(), size)
    print("ok %d bytes there, the digest back" % size if answer == want else "bad answer %r" % answer)


def http(addr, port, path):
    c = socket.create_connection((addr, port), timeout=TIMEOUT)
    c.sendall(b"GET %s HTTP/1.0\r\nHost: x\r\n\r\n" % path.encode())
    resp = b""
    while True:
        d = c.recv(65536)
        if not d:
            break
        resp += d
    head, _, body = resp.partition(b"\r\n\r\n")
    status = head.split(b"\r\n")[0].decode(errors="replace")
    print(body.decode(errors="replace").strip() if " 200 " in status else "status: " + status)


def udp(addr, port, sizes):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    for i, size in enumerate(sizes):
        data = bytes((i + k) % 251 for k in range(size))
        s.sendto(data, (addr, port))
        try:
            d, _ = s.recvfrom(70000)
        except socket.timeout:
            print("no answer to the datagram of %d bytes" % size)
            return
        if d != b"echo:" + data:
            print("datagram of %d bytes: got %d bytes back, not its echo" % (size, len(d)))
            return
    print("ok %d datagrams, each its own echo" % len(sizes))


def udp_peers(addr, port, n):
    socks = []
    for i in range(n):
        s = socket.socket(family(addr), socket.SOCK_DGRAM)
        s.settimeout(TIMEOUT)
        s.sendto(b"peer %d" % i, (addr, port))
        socks.append(s)
    for i, s in enumerate(socks):
        try:
            d, _ = s.recvfrom(100)
        except socket.timeout:
            print("peer %d: no answer" % i)
            return
        if d != b"echo:peer %d" % i:
            print("peer %d got %r" % (i, d))
            return
    print("ok %d peers, each answered its own" % n)


def udp_seq(addr, port, n):
    socks = []
    for i in range(n):
        s = socket.socket(family(addr), socket.SOCK_DGRAM)
        s.settimeout(TIMEOUT)
        socks.append(s)
        s.sendto(b"peer %d" % i, (addr, port))
        try:
            d, _ = s.recvfrom(100)
        except socket.timeout:
            print("peer %d: no answer" % i)
            return
        if d != b"echo:peer %d" % i:
            print("peer %d got %r" % (i, d))
            return
    print("ok %d peers in turn, each answered its own" % n)


def closed(addr, port):
    c = socket.create_connection((addr, port), timeout=TIMEOUT)
    try:
        d = c.recv(100)
        print("closed" if d == b"" else "data %r" % d)
    except ConnectionResetError:
        print("closed")
    except socket.timeout:
        print("still open after %d s" % TIMEOUT)


def listening(addr, port):
    try:
        socket.create_connection((addr, port), timeout=TIMEOUT).close()
        print("yes")
    except OSError:
        print("no")


def bindable(addr, port):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((addr, port))
        print("yes")
    except OSError as e:
        print("no: %s" % e.strerror)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    addr, port = args[0], int(args[1])
    if cmd == "serve-halfclose":
        serve_halfclose(addr, port)
    elif cmd == "serve-udp-echo":
        serve_udp_echo(addr, port)
    elif cmd == "serve-tcp":
        serve_tcp(addr, port)
    elif cmd == "halfclose":
        halfclose(addr, port, int(args[2]))
    elif cmd == "http":
        http(addr, port, args[2])
    elif cmd == "udp":
        udp(addr, port, [int(a) for a in args[2:]])
    elif cmd == "udp-peers":
        udp_peers(addr, port, int(args[2]))
    elif cmd == "udp-seq":
        udp_seq(addr, port, int(args[2]))
    elif cmd == "closed":
        closed(addr, port)
    elif cmd == "listening":
        listening(addr, port)
    elif cmd == "bindable":
        bindable(addr, port)
    else:
        sys.exit("forward-peer: unknown command %s" % cmd)


if __name__ == "__main__":
    try:
        main()
    except OSError as e:
        print("error: %s" % e)
