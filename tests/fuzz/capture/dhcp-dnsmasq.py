#!/usr/bin/env python3
# Captures a DHCP exchange with dnsmasq as the server, whole IPv4/UDP packets
# as they arrive on the client's link (AF_PACKET), for fuzz-dhcp's seeds.
# Runs inside the client's network namespace; argv: IFACE OUTDIR. Set up:
#   ip netns add srv; ip netns add cli; ip link add v0 type veth peer name v1
#   ip link set v0 netns srv; ip link set v1 netns cli
#   ip -n srv addr add 10.77.0.1/24 dev v0; ip -n srv link set v0 up
#   ip -n cli link set v1 up
#   ip netns exec srv dnsmasq --no-daemon --conf-file=/dev/null --interface=v0 \
#     --bind-interfaces --port=0 --dhcp-range=10.77.0.50,10.77.0.99,255.255.255.0,1h \
#     --dhcp-option=option:router,10.77.0.1 --dhcp-option=option:dns-server,10.77.0.1 \
#     --dhcp-option=option:domain-name,porthole.test --dhcp-option=option:mtu,1400 \
#     --dhcp-authoritative --dhcp-leasefile=/tmp/leases &
#   ip netns exec cli dhcp-dnsmasq.py v1 OUTDIR
import os, random, socket, struct, sys, time
iface, out = sys.argv[1], sys.argv[2]
mac = bytes.fromhex(open('/sys/class/net/%s/address' % iface).read().strip().replace(':', ''))
xid = random.getrandbits(32)
def msg(kind, extra=b''):
    m = struct.pack('!BBBBIHH4s4s4s4s16s64s128s', 1, 1, 6, 0, xid, 0, 0x8000, b'\0'*4, b'\0'*4,
                    b'\0'*4, b'\0'*4, mac + b'\0'*10, b'\0'*64, b'\0'*128)
    opts = b'\x63\x82\x53\x63' + bytes([53, 1, kind]) + extra + \
        bytes([55, 7, 1, 3, 6, 12, 15, 26, 51]) + bytes([12, 5]) + b'guest' + b'\xff'
    return m + opts
raw = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
raw.bind((iface, 0x0800))
raw.settimeout(5)
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
tx.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
tx.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
tx.bind(('0.0.0.0', 68))
def wait(kind):
    end = time.time() + 10
    while time.time() < end:
        pkt = raw.recv(4096)
        ihl = (pkt[0] & 15) * 4
        if pkt[9] != 17 or struct.unpack('!H', pkt[ihl+2:ihl+4])[0] != 68:
            continue
        d = pkt[ihl+8:]
        if struct.unpack('!I', d[4:8])[0] != xid:
            continue
        i = 240
        while i < len(d) and d[i] != 255:
            if d[i] == 0: i += 1; continue
            if d[i] == 53 and d[i+2] == kind: return pkt
            i += 2 + d[i+1]
    sys.exit('no reply of type %d' % kind)
tx.sendto(msg(1), ('255.255.255.255', 67))
offer = wait(2)
yiaddr = offer[(offer[0] & 15)*4 + 8 + 16:][:4]
ihl = (offer[0] & 15) * 4
d = offer[ihl+8:]
i = 240; server = None
while d[i] != 255:
    if d[i] == 0: i += 1; continue
    if d[i] == 54: server = d[i+2:i+6]
    i += 2 + d[i+1]
tx.sendto(msg(3, bytes([50, 4]) + yiaddr + bytes([54, 4]) + server), ('255.255.255.255', 67))
ack = wait(5)
# a REQUEST for an address the server will not give: its NAK
tx.sendto(msg(3, bytes([50, 4]) + bytes([10, 99, 99, 99]) + bytes([54, 4]) + server), ('255.255.255.255', 67))
nak = wait(6)
for name, pkt in (('offer', offer), ('ack', ack), ('nak', nak)):
    open(os.path.join(out, 'dnsmasq-' + name), 'wb').write(pkt)
print('captured offer, ack, nak from', socket.inet_ntoa(server))
