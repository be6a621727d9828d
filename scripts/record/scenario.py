"""Python websockets peers used by scripts/record-captures.sh.

usage: /usr/bin/python3 scenario.py SCENARIO PORT

Written for Debian's python3-websockets (10.x, legacy asyncio API).
Scenarios:
  403           server rejects the upgrade with HTTP 403 from process_request
  1001          server shuts down (server.close()), closing with 1001
  killed-server server that echoes and reports how the connection ended
  killed-client client that sends one message and then sleeps until killed
  invalid-close hand-written client sends invalid close frames (1005, 1006,
                999, non-UTF-8 reason) and a valid one, one per connection
  ignored-subprotocol
                client asks for subprotocol "chat", the server picks none;
                the client goes on and closes normally
  wss-1001 PORT CERT KEY KEYLOG
                websockets client and server over TLS (throwaway CERT/KEY);
                server shutdown closes with 1001; the client's ssl context
                writes its key log to KEYLOG (keylog_filename)
  keyupdate-client PORT KEYLOG
                drives `openssl s_client -tls1_3 -keylogfile KEYLOG` by hand:
                a WebSocket upgrade, a masked text, a KeyUpdate ("K": the
                peer is asked to update too), another text, close 1000
"""

import asyncio
import base64
import hashlib
import http
import ssl
import subprocess
import sys
import time

import websockets

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def log(side, *args):
    print(f"{side}:", *args, file=sys.stderr, flush=True)


async def reject_403(path, request_headers):
    return http.HTTPStatus.FORBIDDEN, [("Content-Type", "text/plain")], b"forbidden\n"


async def echo(ws, path):
    try:
        async for msg in ws:
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass
    finally:
        log("server", f"connection ended: close_code={ws.close_code} close_reason={ws.close_reason!r}")


async def scenario_403(port):
    async with websockets.serve(echo, "127.0.0.1", port, process_request=reject_403):
        try:
            async with websockets.connect(f"ws://127.0.0.1:{port}/"):
                log("client", "unexpectedly connected")
        except websockets.InvalidStatusCode as e:
            log("client", f"InvalidStatusCode status_code={e.status_code}")
        await asyncio.sleep(0.2)


async def scenario_1001(port):
    server = await websockets.serve(echo, "127.0.0.1", port)
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/")
    await ws.send("hello")
    log("client", "got", await ws.recv())
    server.close()  # shutdown: open connections get close 1001
    try:
        await ws.recv()
    except websockets.ConnectionClosed as e:
        log("client", f"ConnectionClosed code={e.code} reason={e.reason!r}")
    await server.wait_closed()
    await asyncio.sleep(0.2)


async def scenario_killed_server(port):
    async with websockets.serve(echo, "127.0.0.1", port):
        await asyncio.sleep(30)


async def scenario_killed_client(port):
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/")
    await ws.send("about to be killed")
    log("client", "got", await ws.recv())
    print("ready", flush=True)
    await asyncio.sleep(30)


# One close frame payload per connection: codes 1005, 1006 and 999 (not
# allowed on the wire, RFC 6455 section 7.4), code 1000 with a reason that is
# not UTF-8 (ff fe), and a valid close 1000 "done" as the control.
INVALID_CLOSES = [
    ("1005", b"\x03\xed"),
    ("1006", b"\x03\xee"),
    ("999", b"\x03\xe7"),
    ("1000 + ff fe", b"\x03\xe8\xff\xfe"),
    ('1000 "done"', b"\x03\xe8done"),
]

# RFC 6455's example masking key, fixed so that re-recordings match.
MASK = bytes([0x37, 0xFA, 0x21, 0x3D])


def masked_frame(opcode, payload):
    """A final, masked client frame (payload < 126 bytes)."""
    body = bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + MASK + body


def frames_summary(data):
    """Describes the (unmasked, small) server frames in data."""
    out, i = [], 0
    while i + 2 <= len(data):
        op, n = data[i] & 0x0F, data[i + 1] & 0x7F
        p = data[i + 2 : i + 2 + n]
        if op == 8 and n >= 2:
            out.append(f"close {int.from_bytes(p[:2], 'big')} {p[2:]!r}")
        else:
            out.append(f"opcode {op} ({n} bytes)")
        i += 2 + n
    return ", ".join(out) or "no frame"


async def scenario_invalid_close(port):
    """A hand-written client (correct upgrade, masked frames) sends one close
    frame from INVALID_CLOSES per connection, reads what the server answers
    until the server ends TCP, then ends its side."""
    ended = []

    async def handler(ws, path):
        try:
            async for msg in ws:
                await ws.send(msg)
        except websockets.ConnectionClosed as e:
            log("server", f"ConnectionClosed {e!r}")
        finally:
            await ws.wait_closed()
            ended.append(f"close_code={ws.close_code} close_reason={ws.close_reason!r}")

    async with websockets.serve(handler, "127.0.0.1", port):
        for i, (what, payload) in enumerate(INVALID_CLOSES, 1):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            key = base64.b64encode(f"wsclosescan-key{i - 1}".encode()).decode()
            writer.write(
                f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\n"
                f"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n".encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
            accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
            status = head.split(b"\r\n")[0]
            log("client", f"conn {i}: upgrade {status!r}", "accept ok" if accept.encode() in head else "accept WRONG")
            writer.write(masked_frame(0x8, payload))
            rest = await reader.read()  # until the server's FIN
            log("client", f"conn {i}: sent close {what}; server answered: {frames_summary(rest)}, then FIN")
            writer.close()
            await writer.wait_closed()
            for _ in range(100):
                if len(ended) >= i:
                    break
                await asyncio.sleep(0.01)
            log("server", f"conn {i}: {ended[i - 1] if len(ended) >= i else 'handler still running'}")
            await asyncio.sleep(0.05)


async def scenario_ignored_subprotocol(port):
    """The client asks for subprotocol "chat"; the server has no subprotocols,
    so its 101 carries no Sec-WebSocket-Protocol. websockets' client accepts
    that (RFC 6455 only forbids a subprotocol that was not offered) and goes on:
    one message each way, then a normal close 1000 from the client."""
    async with websockets.serve(echo, "127.0.0.1", port, compression=None):
        ws = await websockets.connect(f"ws://127.0.0.1:{port}/", subprotocols=["chat"], compression=None)
        log("client", f"open, subprotocol={ws.subprotocol!r}")
        await ws.send("hello chat")
        log("client", "got", await ws.recv())
        await ws.close(1000, "done")
        log("client", f"closed close_code={ws.close_code} close_reason={ws.close_reason!r}")
        await asyncio.sleep(0.2)


async def scenario_wss_1001(port, cert, key, keylog):
    """scenario_1001 over TLS; only the client's context logs keys."""
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.load_verify_locations(cert)
    cctx.keylog_filename = keylog
    server = await websockets.serve(echo, "127.0.0.1", port, ssl=sctx, compression=None)
    ws = await websockets.connect(f"wss://127.0.0.1:{port}/", ssl=cctx, server_hostname="localhost", compression=None)
    tls = ws.transport.get_extra_info("ssl_object")
    log("client", "tls", tls.version(), tls.cipher()[0])
    await ws.send("hello over wss")
    log("client", "got", await ws.recv())
    server.close()  # shutdown: open connections get close 1001
    try:
        await ws.recv()
    except websockets.ConnectionClosed as e:
        log("client", f"ConnectionClosed code={e.code} reason={e.reason!r}")
    await server.wait_closed()
    await asyncio.sleep(0.2)


async def scenario_keyupdate_client(port, keylog):
    """openssl s_client reads commands from the first byte of each chunk it
    reads from stdin: "K" sends a KeyUpdate that asks the peer to update its
    keys too. Every other chunk is sent as application data: the upgrade
    request, then masked frames written with masked_frame."""
    p = subprocess.Popen(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
         "-tls1_3", "-keylogfile", keylog],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def send(b, pause=0.3):
        p.stdin.write(b)
        p.stdin.flush()
        time.sleep(pause)

    key = base64.b64encode(b"wsclosescan-kupd").decode()
    send(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\n"
         f"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n".encode(), 0.5)
    send(masked_frame(0x1, b"before key update"))
    send(b"K\n")
    send(masked_frame(0x1, b"after key update"))
    send(masked_frame(0x8, b"\x03\xe8done"), 1.0)
    out, err = p.communicate(timeout=10)  # closes stdin: s_client ends
    for line in err.decode(errors="replace").splitlines():
        if "KEYUPDATE" in line or "DONE" in line or "closed" in line:
            log("s_client", line)
    # s_client's stdout mixes the server's bytes with its own reports (session
    # tickets, ...): read the frames after the 101 up to the first close.
    i = out.find(b"101 Switching")
    frames = out[out.find(b"\r\n\r\n", i) + 4:] if i >= 0 else b""
    summary = frames_summary(frames).split(", ")
    for k, f in enumerate(summary):
        if f.startswith("close"):
            summary = summary[: k + 1]
            break
    log("client", "upgrade", "101" if i >= 0 else "no 101", "server frames:", ", ".join(summary))
    log("client", f"s_client exited with {p.returncode}")


SCENARIOS = {
    "wss-1001": scenario_wss_1001,
    "keyupdate-client": scenario_keyupdate_client,
    "invalid-close": scenario_invalid_close,
    "ignored-subprotocol": scenario_ignored_subprotocol,
    "403": scenario_403,
    "1001": scenario_1001,
    "killed-server": scenario_killed_server,
    "killed-client": scenario_killed_client,
}


def main(argv):
    if len(argv) < 3 or argv[1] not in SCENARIOS:
        print(__doc__, file=sys.stderr)
        return 2
    asyncio.run(SCENARIOS[argv[1]](int(argv[2]), *argv[3:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
