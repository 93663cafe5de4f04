#!/usr/bin/env python3
# vhost-user messages QEMU sent porthole-vsockd, out of an strace of it, in
# fuzz-host-vhost-user's input format: [n_fds][12-byte header][payload]...
# usage: strace-vhost-user.py STRACE FD OUT, the strace taken with
#   strace -f -xx -s 65536 -e trace=recvmsg,read -o STRACE porthole-vsockd ...
# (-s: QEMU's memory table and ring addresses are longer than strace's 32
# bytes by default) and FD the descriptor of QEMU's connection.
import re, sys
path, fd, out = sys.argv[1], sys.argv[2], sys.argv[3]
def unesc(s):
    # strace's C escapes (octal, \t \n \v \f \r, \", \\) to bytes
    b = bytearray(); i = 0
    while i < len(s):
        c = s[i]
        if c != '\\': b += c.encode('latin1'); i += 1; continue
        n = s[i+1]
        if n in '01234567':
            m = re.match(r'[0-7]{1,3}', s[i+1:]).group(0); b.append(int(m, 8)); i += 1 + len(m)
        elif n == 'x': b.append(int(s[i+2:i+4], 16)); i += 4
        else: b += {'t':b'\t','n':b'\n','v':b'\v','f':b'\f','r':b'\r','"':b'"','\\':b'\\'}[n]; i += 2
    return bytes(b)
msgs = []; trunc = 0
for line in open(path, encoding='latin1'):
    m = re.search(r'recvmsg\(%s, \{.*?iov_base="((?:[^"\\]|\\.)*)"(\.\.\.)?.*\) = (\d+)' % fd, line)
    if m:
        if m.group(2): trunc += 1
        if m.group(3) == '0': continue  # the front-end's end
        fds = re.search(r'cmsg_data=\[([0-9, ]*)\]', line)
        nf = len(fds.group(1).split(',')) if fds else 0
        msgs.append([nf, unesc(m.group(1))]); continue
    m = re.search(r' read\(%s, "((?:[^"\\]|\\.)*)"(\.\.\.)?, \d+\) += (\d+)' % fd, line)
    if m and msgs:
        if m.group(2): trunc += 1
        msgs[-1][1] += unesc(m.group(1))
with open(out, 'wb') as f:
    for nf, b in msgs: f.write(bytes([nf]) + b)
print(len(msgs), 'messages,', trunc, 'truncated strings', file=sys.stderr)
