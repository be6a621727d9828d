"""Non-WebSocket TCP peers used by scripts/record-captures.sh for
mixed-protocols.pcap: traffic a WebSocket analyzer must leave alone.

usage: /usr/bin/python3 other_protocols.py SCENARIO PORT [CERT KEY]

Each scenario runs its server and client in this process on 127.0.0.1:PORT.
Scenarios:
  http    HTTP/1.1 GET of a 20000-byte pseudo-random body (fixed seed)
          from an http.server handler; the client closes the connection
  dns     DNS over TCP (RFC 7766: 2-byte length prefix): three queries on
          one connection, each answered; the client closes
  modbus  a Modbus/TCP exchange (MBAP header): four read-holding-registers
          requests and one write-single-register, each answered
  tls     TLS (Python ssl, self-signed CERT/KEY): one message each way,
          then close_notify each way; the client closes TCP first
"""

import http.client
import http.server
import random
import socket
import ssl
import struct
import sys
import threading

BODY = random.Random(6455).randbytes(20000)


def log(side, *args):
    print(f"{side}:", *args, file=sys.stderr, flush=True)


def serve_one(port, handle):
    """Listens on 127.0.0.1:port and runs handle(conn) for one connection in
    a thread; returns the thread."""
    ln = socket.create_server(("127.0.0.1", port))

    def run():
        conn, _ = ln.accept()
        ln.close()
        with conn:
            handle(conn)

    t = threading.Thread(target=run)
    t.start()
    return t


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        d = conn.recv(n - len(buf))
        if not d:
            return None
        buf += d
    return buf


class BodyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, fmt, *args):
        log("http server", fmt % args)


def scenario_http(port):
    srv = http.server.HTTPServer(("127.0.0.1", port), BodyHandler)
    t = threading.Thread(target=srv.handle_request)  # one connection
    t.start()
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("GET", "/blob.bin")
    r = c.getresponse()
    body = r.read()
    log("http client", r.status, r.reason, f"{len(body)} bytes", "body ok" if body == BODY else "body WRONG")
    c.close()
    t.join()
    srv.server_close()


def dns_name(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"


def scenario_dns(port):
    queries = [(0x1A2B, "example.com", 1), (0x1A2C, "wsclosescan.test", 1), (0x1A2D, "example.com", 28)]

    def handle(conn):
        while True:
            n = recv_exact(conn, 2)
            if n is None:
                log("dns server", "client closed")
                return
            q = recv_exact(conn, struct.unpack("!H", n)[0])
            qid, qtype = struct.unpack("!H", q[:2])[0], struct.unpack("!H", q[-4:-2])[0]
            question = q[12:]
            if qtype == 1:
                answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([127, 0, 0, 53])
            else:
                answer = b"\xc0\x0c" + struct.pack("!HHIH", 28, 1, 300, 16) + bytes(15) + b"\x01"
            # flags 0x8180: response, recursion desired and available, no error.
            msg = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + answer
            conn.sendall(struct.pack("!H", len(msg)) + msg)

    t = serve_one(port, handle)
    with socket.create_connection(("127.0.0.1", port)) as c:
        for qid, name, qtype in queries:
            # flags 0x0100: standard query, recursion desired.
            q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + dns_name(name) + struct.pack("!HH", qtype, 1)
            c.sendall(struct.pack("!H", len(q)) + q)
            n = recv_exact(c, 2)
            r = recv_exact(c, struct.unpack("!H", n)[0])
            log("dns client", f"id {qid:#06x} {name} type {qtype}: answer {r[-4:].hex() if qtype == 1 else r[-16:].hex()}")
    t.join()


def scenario_modbus(port):
    registers = list(range(100, 200))

    def handle(conn):
        while True:
            mbap = recv_exact(conn, 7)
            if mbap is None:
                log("modbus server", "client closed")
                return
            tid, pid, length, unit = struct.unpack("!HHHB", mbap)
            pdu = recv_exact(conn, length - 1)
            fc = pdu[0]
            if fc == 3:
                start, qty = struct.unpack("!HH", pdu[1:5])
                vals = registers[start : start + qty]
                rpdu = bytes([3, 2 * len(vals)]) + struct.pack(f"!{len(vals)}H", *vals)
            elif fc == 6:
                addr, val = struct.unpack("!HH", pdu[1:5])
                registers[addr] = val
                rpdu = pdu  # the reply echoes the request
            else:
                rpdu = bytes([fc | 0x80, 1])  # illegal function
            conn.sendall(struct.pack("!HHHB", tid, 0, len(rpdu) + 1, unit) + rpdu)

    t = serve_one(port, handle)
    requests = [(3, 0, 4), (3, 10, 8), (6, 5, 0xBEEF), (3, 4, 2), (3, 0, 16)]
    with socket.create_connection(("127.0.0.1", port)) as c:
        for tid, (fc, a, b) in enumerate(requests, 1):
            pdu = struct.pack("!BHH", fc, a, b)
            c.sendall(struct.pack("!HHHB", tid, 0, len(pdu) + 1, 1) + pdu)
            mbap = recv_exact(c, 7)
            r = recv_exact(c, struct.unpack("!HHHB", mbap)[2] - 1)
            log("modbus client", f"tid {tid} fc {fc}: reply {r.hex()}")
    t.join()


def scenario_tls(port, cert, key):
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)

    def handle(conn):
        s = sctx.wrap_socket(conn, server_side=True)
        msg = s.recv(1024)
        s.sendall(b"echo: " + msg)
        if s.recv(1024) == b"":  # the client's close_notify
            log("tls server", "client sent close_notify")
        raw = s.unwrap()  # answer with close_notify
        # wait for the client's FIN, so that the FIN order does not race
        if raw.recv(1) == b"":
            log("tls server", "client sent FIN")
        raw.close()

    t = serve_one(port, handle)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.load_verify_locations(cert)
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with cctx.wrap_socket(raw, server_hostname="localhost") as s:
            log("tls client", s.version(), s.cipher()[0])
            s.sendall(b"hello over tls")
            log("tls client", "got", s.recv(1024))
            s.unwrap()  # close_notify, then wait for the server's
    t.join()


SCENARIOS = {"http": scenario_http, "dns": scenario_dns, "modbus": scenario_modbus, "tls": scenario_tls}


def main(argv):
    if len(argv) < 3 or argv[1] not in SCENARIOS:
        print(__doc__, file=sys.stderr)
        return 2
    SCENARIOS[argv[1]](int(argv[2]), *argv[3:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
