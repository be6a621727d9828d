"""Python websockets peers used by scripts/record-captures.sh.

usage: /usr/bin/python3 scenario.py SCENARIO PORT

Written for Debian's python3-websockets (10.x, legacy asyncio API).
Scenarios:
  403           server rejects the upgrade with HTTP 403 from process_request
  1001          server shuts down (server.close()), closing with 1001
  killed-server server that echoes and reports how the connection ended
  killed-client client that sends one message and then sleeps until killed
"""

import asyncio
import http
import sys

import websockets


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


SCENARIOS = {
    "403": scenario_403,
    "1001": scenario_1001,
    "killed-server": scenario_killed_server,
    "killed-client": scenario_killed_client,
}


def main(argv):
    if len(argv) != 3 or argv[1] not in SCENARIOS:
        print(__doc__, file=sys.stderr)
        return 2
    asyncio.run(SCENARIOS[argv[1]](int(argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
