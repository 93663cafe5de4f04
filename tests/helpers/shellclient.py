#!/usr/bin/env python3
"""porthole-shell from the host's side, for tests/sandbox/shell.sh: the
request, then the frames of docs/protocol.md, spoken here independently of
the CLI (so that what the agent does with bad frames, a host that goes or
does not read, and its limits can be driven); and porthole itself on a
pseudo-terminal, as a person at a terminal would use it.

  shellclient.py SOCK badframe
      a session running `sleep 1000`, then a frame of unknown type: prints the
      agent's error frame, and "closed" when the agent has closed
  shellclient.py SOCK hangup PIDFILE
      a session whose command writes its pid to PIDFILE and sleeps; once the
      file is there, the connection is closed; prints the pid
  shellclient.py SOCK limit N
      N sessions running `sleep 1000` opened at once: prints "ok" or the
      error of each, then porthole-health's agent.sessions, then closes all
  shellclient.py SOCK slow AGENT_PID MEGABYTES
      a session writing MEGABYTES of zeros that the host does not read for
      2 s: prints the session process's VmRSS then (KiB), then reads it all
      and prints the bytes of stdout and the exit frame
  shellclient.py fakeagent SOCK KIB
      an agent on the unix socket SOCK for one client, whose reply to
      porthole-shell comes in one write with KIB KiB of stdout and the exit
  shellclient.py serial AGENT DIR
      a pty as the agent's virtio-serial port DIR/org.porthole.agent.0 (AGENT
      started on it here, with --enable-shell): prints the reply to
      porthole-shell asked over it
  shellclient.py pty resize|interrupt|raw -- COMMAND...
      COMMAND (porthole shell or exec -t) on a pty of 30 rows and 100 columns:
      resize: `stty size` before and after the pty is made 40x120 (porthole
      gets SIGWINCH); interrupt: a command that writes its pid to a file and
      sleeps, then Ctrl-C: prints whether it died and $?, then `exit 5` and
      porthole's exit status; raw: whether the terminal is raw during the
      session and canonical again after it, once ended by `exit 0`, once by
      SIGUSR1 to porthole
"""
import fcntl
import json
import os
import pty
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time
import tty

HDR = struct.Struct(">BBH")


def frame(ftype, payload=b""):
    return HDR.pack(ftype, 0, len(payload)) + payload


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    return s


def request(s, args):
    """Sends porthole-shell and reads its reply: (reply, bytes after it)."""
    s.sendall(json.dumps({"execute": "porthole-shell", "arguments": args, "id": 1}).encode())
    buf = b""
    while b"\n" not in buf:
        d = s.recv(65536)
        if not d:
            sys.exit("shellclient: the agent closed the connection before its reply: %r" % buf)
        buf += d
    line, _, rest = buf.partition(b"\n")
    return json.loads(line), rest


def frames(s, buf=b"", limit=None):
    """Yields (type, payload) until the connection closes."""
    while True:
        while len(buf) >= 4:
            t, _, n = HDR.unpack(buf[:4])
            if len(buf) < 4 + n:
                break
            yield t, buf[4:4 + n]
            buf = buf[4 + n:]
        d = s.recv(1 << 20)
        if not d:
            return
        buf += d


def badframe(sock):
    s = connect(sock)
    reply, rest = request(s, {"argv": ["sleep", "1000"], "tty": False})
    print("reply", "return" in reply, flush=True)
    s.sendall(b"\x7f\x00\x00\x00")
    for t, p in frames(s, rest):
        if t == 0x84:
            print("error:", p.decode(errors="replace"), flush=True)
    print("closed", flush=True)


def hangup(sock, pidfile):
    s = connect(sock)
    reply, _ = request(s, {"argv": ["sh", "-c", "echo $$ >%s; exec sleep 1000" % pidfile],
                           "tty": False})
    for _ in range(200):
        if os.path.exists(pidfile) and open(pidfile).read().strip():
            break
        time.sleep(0.05)
    print(open(pidfile).read().strip(), flush=True)
    s.close()


def call(sock, name):
    s = connect(sock)
    s.sendall(json.dumps({"execute": name}).encode())
    buf = b""
    while b"\n" not in buf:
        buf += s.recv(65536)
    s.close()
    return json.loads(buf)


def limit(sock, n):
    held = []
    for i in range(n):
        s = connect(sock)
        reply, _ = request(s, {"argv": ["sleep", "1000"], "tty": False})
        if "return" in reply:
            print("ok", flush=True)
            held.append(s)
        else:
            print("error:", reply["error"]["desc"], flush=True)
            s.close()
    print("sessions", json.dumps(call(sock, "porthole-health")["return"]["agent"]["sessions"]),
          flush=True)
    for s in held:
        s.close()


def children(pid):
    out = []
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, task)) as f:
            out += [int(c) for c in f.read().split()]
    return out


def sessions_of(agent_pid):
    """The agent's children and its launcher's (porthole-launch, which
    forks porthole-agent's sessions: docs/security.md)."""
    out = []
    for c in children(agent_pid):
        out.append(c)
        try:
            with open("/proc/%d/comm" % c) as f:
                if f.read().strip() == "porthole-launch":
                    out += children(c)
        except OSError:
            pass
    return out


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def slow(sock, agent_pid, megabytes):
    before = set(sessions_of(agent_pid))
    s = connect(sock)
    reply, rest = request(s, {"argv": ["head", "-c", "%d" % (megabytes * 1000000), "/dev/zero"],
                              "tty": False})
    time.sleep(2)
    session = [c for c in sessions_of(agent_pid) if c not in before]
    print("rss", rss(session[0]) if session else -1, flush=True)
    total, code = 0, None
    for t, p in frames(s, rest):
        if t == 0x81:
            total += len(p)
        elif t == 0x83:
            code = p
    print("stdout", total, "exit", code.hex() if code else None, flush=True)


def serial(agent, directory):
    master, slave = pty.openpty()
    tty.setraw(slave)
    os.symlink(os.ttyname(slave), os.path.join(directory, "org.porthole.agent.0"))
    log = open(os.path.join(directory, "agent.log"), "w")
    p = subprocess.Popen([agent, "--unix", "", "--no-vsock", "--serial-dir", directory,
                          "--config", "/dev/null", "--cmdline", "", "--enable-shell"],
                         stderr=log)
    try:
        time.sleep(1)
        os.write(master, b'{"execute":"porthole-shell","arguments":{"argv":["true"]},"id":3}')
        buf, end = b"", time.time() + 10
        while b"\n" not in buf and time.time() < end:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                buf += os.read(master, 4096)
        print(buf.decode(errors="replace").strip(), flush=True)
        print("agent running", p.poll() is None, flush=True)
    finally:
        p.kill()
        p.wait()


class Pty:
    def __init__(self, argv, rows, cols):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            # the size before porthole starts: it reads it once, then on SIGWINCH
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.execvp(argv[0], argv)
        self.buf = b""

    def expect(self, pat, timeout=15):
        end = time.time() + timeout
        while pat not in self.buf and time.time() < end:
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if r:
                try:
                    d = os.read(self.fd, 4096)
                except OSError:
                    break
                if not d:
                    break
                self.buf += d
        found = pat in self.buf
        if found:
            self.buf = self.buf[self.buf.index(pat) + len(pat):]
        return found

    def send(self, b):
        os.write(self.fd, b)

    def status(self, timeout=15):
        end = time.time() + timeout
        while time.time() < end:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(st)
            try:
                os.read(self.fd, 4096)
            except OSError:
                time.sleep(0.05)
        return "still running"


def pty_resize(argv):
    t = Pty(argv, 30, 100)
    # "$((1))": the line's echo does not hold what the output will
    t.send(b"stty size; echo sz$((1))\r")
    before = t.expect(b"30 100\r\nsz1")
    fcntl.ioctl(t.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    time.sleep(0.5)
    t.send(b"stty size; echo sz$((2))\r")
    after = t.expect(b"40 120\r\nsz2")
    print("before 30x100", before, "after 40x120", after, flush=True)
    t.send(b"exit 0\r")
    print("status", t.status(), flush=True)


def pty_interrupt(argv):
    pidfile = tempfile.mktemp(prefix="/tmp/porthole-shell-int.")
    t = Pty(argv, 24, 80)
    t.send(b"sh -c 'echo $$ >%s; exec sleep 100'\r" % pidfile.encode())
    pid = None
    for _ in range(200):
        if os.path.exists(pidfile) and open(pidfile).read().strip():
            pid = int(open(pidfile).read())
            break
        time.sleep(0.05)
    os.unlink(pidfile) if os.path.exists(pidfile) else None
    alive = pid is not None and os.path.exists("/proc/%d" % pid)
    t.send(b"\x03")
    # a line of its own: a shell drops the rest of a line whose command a
    # SIGINT ended
    t.send(b"echo rc=$((0+$?))\r")
    rc = t.expect(b"rc=130")
    dead = pid is not None and not os.path.exists("/proc/%d" % pid)
    print("sleep ran", alive, "ctrl-c: rc=130", rc, "sleep gone", dead, flush=True)
    t.send(b"exit 5\r")
    print("status", t.status(), flush=True)


def fakeagent(path, kib):
    """Serves one client as an agent that answers porthole-shell and sends,
    in the same write as its reply, KIB KiB of stdout frames and the exit:
    more than a session's buffer, all read with the reply."""
    import re
    l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    l.bind(path)
    l.listen(1)
    print("listening", flush=True)
    c, _ = l.accept()
    c.settimeout(20)
    buf = b""
    while not re.search(rb'guest-sync-delimited.*"id":(\d+)\}\}', buf):
        buf += c.recv(4096)
    sync = re.search(rb'guest-sync-delimited.*"id":(\d+)\}\}', buf)
    c.sendall(b'\xff{"return": %s}\n' % sync.group(1))
    buf = buf[sync.end():]
    while True:
        try:
            req = json.loads(buf)
            break
        except ValueError:
            buf += c.recv(4096)
    out = json.dumps({"return": {"path": "/bin/x", "tty": False}, "id": req["id"]}).encode()
    out += b"\n"
    chunk = bytes(range(256)) * 64
    for _ in range(kib // 16):
        out += frame(0x81, chunk)
    out += frame(0x83, b"\x00\x00")
    c.sendall(out)
    while c.recv(4096):
        pass


def canonical(fd):
    return bool(termios.tcgetattr(fd)[3] & termios.ICANON)


def pty_raw(argv):
    """The terminal is raw while porthole runs and restored when it ends:
    by the shell's exit, and by a signal porthole does not handle (SIGUSR1)."""
    for how in ("exit", "SIGUSR1"):
        t = Pty(argv, 24, 80)
        t.send(b"echo ready$((1))\r")
        ready = t.expect(b"ready1")
        raw = not canonical(t.fd)
        if how == "exit":
            t.send(b"exit 0\r")
        else:
            os.kill(t.pid, signal.SIGUSR1)
        status = t.status()
        print("%s: ready %s raw during %s restored after %s status %s"
              % (how, ready, raw, canonical(t.fd), status), flush=True)


def main():
    a = sys.argv[1:]
    if a[0] == "pty":
        modes = {"resize": pty_resize, "interrupt": pty_interrupt, "raw": pty_raw}
        modes[a[1]](a[a.index("--") + 1:])
    elif a[0] == "fakeagent":
        fakeagent(a[1], int(a[2]))
    elif a[0] == "serial":
        serial(a[1], a[2])
    elif a[1] == "badframe":
        badframe(a[0])
    elif a[1] == "hangup":
        hangup(a[0], a[2])
    elif a[1] == "limit":
        limit(a[0], int(a[2]))
    elif a[1] == "slow":
        slow(a[0], int(a[2]), int(a[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
