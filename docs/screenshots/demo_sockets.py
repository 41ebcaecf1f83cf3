#!/usr/bin/env python3
"""Put real sockets up on loopback for the window's screenshots.

    demo_sockets.py --tcp 127.0.0.1:8080 --time-wait 8080 --udp 127.0.0.1:5353

--tcp ADDR:PORT   listen on it (repeatable; IPv6 as [::1]:5432)
--udp ADDR:PORT   bind a UDP socket (repeatable)
--time-wait PORT  every few seconds, open 3 connections to our listener on
                  PORT, keep them 2.5 s (so a sampler sees who holds them),
                  then close from the accepting side first: TIME_WAIT sits on
                  the server's port and counts down (60 s on Linux)
--seconds N       stop after N seconds (default 1 hour); everything closes

Run it through a symlink to python3 named like a server (api-server,
postgres) and the window shows that name as the holder.
"""
import argparse
import socket
import time


def endpoint(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return family, host, int(port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcp", action="append", default=[])
    ap.add_argument("--udp", action="append", default=[])
    ap.add_argument("--time-wait", type=int)
    ap.add_argument("--every", type=float, default=6)
    ap.add_argument("--seconds", type=float, default=3600)
    args = ap.parse_args()

    keep, listeners = [], {}
    for text in args.tcp:
        family, host, port = endpoint(text)
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        s.listen(64)
        keep.append(s)
        listeners[port] = (s, host)
    for text in args.udp:
        family, host, port = endpoint(text)
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.bind((host, port))
        keep.append(s)

    end = time.time() + args.seconds
    try:
        while time.time() < end:
            if args.time_wait in listeners:
                server, host = listeners[args.time_wait]
                pairs = []
                for _ in range(3):
                    c = socket.create_connection((host, args.time_wait))
                    a, _ = server.accept()
                    pairs.append((c, a))
                time.sleep(2.5)
                for c, a in pairs:
                    a.close()  # the server side closes first
                    c.recv(1)
                    c.close()
            time.sleep(args.every)
    finally:
        for s in keep:
            s.close()


if __name__ == "__main__":
    main()
