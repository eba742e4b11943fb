#!/usr/bin/python3
"""Open N SMTP connections to 127.0.0.1:PORT, read each 220 greeting, hold them.

Usage: hold-connections.py PORT N HOLD_SECONDS TIMEOUT_SECONDS

Bash's /dev/tcp tops out at a few thousand descriptors; this holds 10,000 and
more with one non-blocking selector loop. At most PENDING connections wait for
their greeting at once, so the server's listen backlog is not flooded.
Prints "READY opened=.. greeted=.. open_secs=.." once every connection was
greeted (or the timeout passed), holds them HOLD_SECONDS, closes them all and
prints "DONE". Exits 0 when every connection was greeted, 1 otherwise.
"""
import resource
import selectors
import socket
import sys
import time

PENDING = 256


def main():
    port, n, hold, timeout = (int(a) for a in sys.argv[1:5])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard) if hard != resource.RLIM_INFINITY else want, hard))
    sel = selectors.DefaultSelector()
    held, waiting = [], {}
    opened = greeted = failed = 0
    t0 = time.monotonic()
    deadline = t0 + timeout
    while greeted + failed < n and time.monotonic() < deadline:
        while opened < n and len(waiting) < PENDING:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            sel.register(s, selectors.EVENT_READ)
            waiting[s] = b""
            opened += 1
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                data = s.recv(512)
            except OSError:
                data = b""
            if not data:
                failed += 1
                sel.unregister(s)
                del waiting[s]
                s.close()
                continue
            waiting[s] += data
            if b"\n" in waiting[s]:
                sel.unregister(s)
                ok = waiting[s].startswith(b"220")
                del waiting[s]
                if ok:
                    greeted += 1
                    held.append(s)
                else:
                    failed += 1
                    s.close()
    print("READY opened=%d greeted=%d open_secs=%.3f" % (opened, greeted, time.monotonic() - t0), flush=True)
    time.sleep(hold)
    for s in held + list(waiting):
        s.close()
    print("DONE", flush=True)
    return 0 if greeted == n else 1


if __name__ == "__main__":
    sys.exit(main())
