#!/usr/bin/env python3
# A stand-in for the guest agent on a unix socket that records every byte a
# client sends (one file per connection) and answers each request: the sync
# with its id, anything else with an empty return. For fuzz-agent-requests'
# seeds: the requests as the porthole CLI really sends them.
import json, os, socket, sys, threading
path, out = sys.argv[1], sys.argv[2]
if os.path.exists(path): os.unlink(path)
ls = socket.socket(socket.AF_UNIX); ls.bind(path); ls.listen(8)
n = 0
def serve(c, k):
    got = b''; dec = json.JSONDecoder()
    c.settimeout(10)
    try:
        while True:
            d = c.recv(65536)
            if not d: break
            got += d
            text = got.replace(b'\xff', b' ').decode('utf-8', 'replace')
            pos = 0; reqs = []
            while True:
                while pos < len(text) and text[pos] in ' \r\n\t': pos += 1
                if pos >= len(text): break
                try: v, pos = dec.raw_decode(text, pos)
                except ValueError: break
                reqs.append(v)
            for v in reqs[serve.done.get(k, 0):]:
                name = v.get('execute'); a = v.get('arguments') or {}
                if name in ('guest-sync', 'guest-sync-delimited'):
                    r = (b'\xff' if name == 'guest-sync-delimited' else b'') + json.dumps({'return': a.get('id')}).encode()
                else:
                    r = json.dumps({'return': {}} if 'id' not in v else {'return': {}, 'id': v['id']}).encode()
                c.sendall(r + b'\n')
            serve.done[k] = len(reqs)
    except Exception: pass
    open(os.path.join(out, 'conn-%d' % k), 'wb').write(got)
    c.close()
serve.done = {}
while True:
    c, _ = ls.accept(); n += 1
    threading.Thread(target=serve, args=(c, n), daemon=True).start()
