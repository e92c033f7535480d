"""Servers and clients for the live-capture test (io/tests/live/mod.rs).

  servers.py serve ADDR HTTP_PORT DNS_PORT
        HTTP/1.1 (keep-alive) on ADDR:HTTP_PORT and a DNS responder on
        ADDR:DNS_PORT (UDP); prints "ready" once both listen, runs until killed.
  servers.py dns ADDR DNS_PORT NAME...
        asks ADDR for the A record of each NAME over UDP, prints one line per
        answer.

Standard library only: the test needs nothing beyond python3.
"""

import http.server
import socket
import struct
import sys
import threading

ANSWER_ADDR = "10.213.0.99"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, unlike http.server's default

    def do_GET(self):
        body = ("you asked for " + self.path + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def dns_answer(query):
    """An answer to a one-question A query: the question echoed, one A."""
    ident, flags, qd = struct.unpack("!HHH", query[:6])
    end = 12
    while query[end] != 0:
        end += query[end] + 1
    question = query[12 : end + 5]
    header = struct.pack("!HHHHHH", ident, 0x8180 | (flags & 0x0100), 1, 1, 0, 0)
    answer = struct.pack("!HHHLH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(ANSWER_ADDR)
    return header + question + answer


def serve_dns(sock):
    while True:
        data, peer = sock.recvfrom(2048)
        try:
            sock.sendto(dns_answer(data), peer)
        except (IndexError, struct.error):
            pass


def serve(addr, http_port, dns_port):
    httpd = http.server.ThreadingHTTPServer((addr, http_port), Handler)
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind((addr, dns_port))
    threading.Thread(target=serve_dns, args=(dns,), daemon=True).start()
    print("ready", flush=True)
    httpd.serve_forever()


def query(addr, port, names):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(3)
    for i, name in enumerate(names):
        qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
        msg = struct.pack("!HHHHHH", 0x1000 + i, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)
        sock.sendto(msg, (addr, port))
        reply, _ = sock.recvfrom(2048)
        print(name, socket.inet_ntoa(reply[-4:]), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "dns":
        query(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    else:
        sys.exit("usage: servers.py serve ADDR HTTP_PORT DNS_PORT | dns ADDR DNS_PORT NAME...")
