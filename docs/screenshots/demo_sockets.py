#!/usr/bin/env python3
"""Put some real sockets up on loopback for the window's screenshots.

Listeners on 127.0.0.1:8080, [::1]:5432, 0.0.0.0:3000 and UDP 127.0.0.1:5353,
one ESTABLISHED connection, and TIME_WAIT remnants on port 9090 made every few
seconds (the accepting side closes first, so TIME_WAIT sits on the server's
port and counts down from 60 s on Linux). Runs until killed, or for
--seconds; everything closes on exit.
"""
import argparse
import socket
import time


def listen(family, addr, port, kind=socket.SOCK_STREAM):
    s = socket.socket(family, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    if kind == socket.SOCK_STREAM:
        s.listen(64)
    return s


def time_wait_burst(server, port, n, alive=2.5):
    """n connections to `server`, kept open for `alive` seconds (so a
    sampler sees who holds them), then closed by the accepting side first."""
    pairs = []
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port))
        a, _ = server.accept()
        pairs.append((c, a))
    time.sleep(alive)
    for c, a in pairs:
        a.close()  # server side closes first: its end goes to TIME_WAIT
        c.recv(1)  # see the FIN
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3600)
    ap.add_argument("--burst-every", type=float, default=7)
    args = ap.parse_args()

    keep = [
        listen(socket.AF_INET, "127.0.0.1", 8080),
        listen(socket.AF_INET6, "::1", 5432),
        listen(socket.AF_INET, "0.0.0.0", 3000),
        listen(socket.AF_INET, "127.0.0.1", 5353, socket.SOCK_DGRAM),
    ]
    # One live connection to 8080.
    client = socket.create_connection(("127.0.0.1", 8080))
    peer, _ = keep[0].accept()
    keep += [client, peer]

    tw_server = listen(socket.AF_INET, "127.0.0.1", 9090)
    keep.append(tw_server)
    end = time.time() + args.seconds
    try:
        while time.time() < end:
            time_wait_burst(tw_server, 9090, 3)
            time.sleep(args.burst_every)
    finally:
        for s in keep:
            s.close()


if __name__ == "__main__":
    main()
