#!/usr/bin/env python3
"""The host side of scripts/bench-published: the measurements, each printed
as one JSON line for the wrapper's table.

  bench-published.py apiroundtrip DOCKER SOCK N
      N runs of `docker version` from the host through porthole's forward
      (DOCKER_HOST=unix://SOCK), and N GET /version on SOCK straight: the
      median wall time of each, ms
  bench-published.py firstanswer DOCKER SOCK PORT
      `docker run -d -p PORT:80` of a busybox httpd, then the time from its
      return to the first HTTP answer on 127.0.0.1:PORT, ms (30 s at most)
  bench-published.py download URL BYTES PIDS
      one HTTP download of URL, checked for BYTES bytes: MB/s, and the CPU
      seconds the processes PIDS (commas: QEMU, porthole-vsockd, porthole
      forward ports) spent meanwhile, per GB
"""
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request


def cpu_seconds(pid):
    """utime + stime of PID and its threads, seconds (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def docker(docker_cli, sock, *args, check=True):
    env = dict(os.environ, DOCKER_HOST=f"unix://{sock}")
    return subprocess.run([docker_cli, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=check)


def api_get(sock, path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(sock)
    s.sendall(f"GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n".encode())
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    if not data.startswith(b"HTTP/1.0 200") and not data.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"GET {path}: {data[:80]!r}")


def apiroundtrip(docker_cli, sock, n):
    cli, raw = [], []
    for _ in range(n):
        t0 = time.monotonic()
        docker(docker_cli, sock, "version", "--format", "{{.Server.Version}}")
        cli.append((time.monotonic() - t0) * 1e3)
    for _ in range(n * 10):
        t0 = time.monotonic()
        api_get(sock, "/version")
        raw.append((time.monotonic() - t0) * 1e3)
    return {"cli_ms": statistics.median(cli), "api_ms": statistics.median(raw),
            "api_p99_ms": sorted(raw)[int(len(raw) * 0.99) - 1]}


def firstanswer(docker_cli, sock, port):
    docker(docker_cli, sock, "rm", "-f", f"bench-first-{port}", check=False)
    docker(docker_cli, sock, "run", "-d", "--name", f"bench-first-{port}", "-p", f"{port}:80",
           "bb:latest", "sh", "-c", "mkdir -p /w && echo up >/w/index.html && httpd -f -p 80 -h /w")
    t0 = time.monotonic()
    while time.monotonic() - t0 < 30:
        try:
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
            if body == b"up\n":
                return {"ms": (time.monotonic() - t0) * 1e3}
        except OSError:
            pass
        time.sleep(0.01)
    return {"ms": None}


def download(url, size, pids):
    pids = [int(p) for p in pids.split(",")]
    c0 = sum(cpu_seconds(p) for p in pids)
    t0 = time.monotonic()
    got = 0
    with urllib.request.urlopen(url, timeout=120) as r:
        while True:
            b = r.read(1 << 20)
            if not b:
                break
            got += len(b)
    t = time.monotonic() - t0
    c = sum(cpu_seconds(p) for p in pids) - c0
    return {"mbs": got / t / 1e6, "ok": got == size, "cpu_s_per_gb": c / (got / 1e9) if got else None}


def main(argv):
    cmd = argv[1]
    if cmd == "apiroundtrip":
        r = apiroundtrip(argv[2], argv[3], int(argv[4]))
    elif cmd == "firstanswer":
        r = firstanswer(argv[2], argv[3], int(argv[4]))
    elif cmd == "download":
        r = download(argv[2], int(argv[3]), argv[4])
    else:
        sys.exit(__doc__)
    print(json.dumps(r))


if __name__ == "__main__":
    main(sys.argv)
