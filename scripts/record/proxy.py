"""Python websockets peers behind nginx for the proxy scenarios of
scripts/record-captures.sh (nginx-proxy.conf: front 9201, backend 9202).

usage: /usr/bin/python3 proxy.py backend PORT MODE
       /usr/bin/python3 proxy.py client PORT

Written for Debian's python3-websockets (10.x, legacy asyncio API).
backend modes:
  close-1000  echo the first message, then close with 1000 "done"
  idle        echo the first message, then wait (nginx's proxy_read_timeout
              ends both legs)
  killed      echo the first message and print "ready"; the script then
              kills the process with SIGKILL
client: connect, send one message, read the echo, then wait (10 s at most)
for the connection to end and log the close code its API reports.
"""

import asyncio
import sys

import websockets


def log(side, *args):
    print(f"{side}:", *args, file=sys.stderr, flush=True)


def backend_handler(mode):
    async def handler(ws, path):
        try:
            msg = await ws.recv()
            await ws.send(msg)
            if mode == "close-1000":
                await ws.close(1000, "done")
            elif mode == "killed":
                print("ready", flush=True)
            await ws.wait_closed()
        except websockets.ConnectionClosed:
            pass
        log("backend", f"connection ended: close_code={ws.close_code} close_reason={ws.close_reason!r}")

    return handler


async def backend(port, mode):
    # No keepalive pings: they would reset nginx's proxy_read_timeout.
    async with websockets.serve(backend_handler(mode), "127.0.0.1", port, ping_interval=None):
        await asyncio.sleep(30)


async def client(port):
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws", ping_interval=None)
    await ws.send("hello through the proxy")
    log("client", "got", await ws.recv())
    try:
        await asyncio.wait_for(ws.wait_closed(), 10)
    except asyncio.TimeoutError:
        log("client", "still open after 10 s")
    log("client", f"connection ended: close_code={ws.close_code} close_reason={ws.close_reason!r}")


def main(argv):
    if len(argv) == 4 and argv[1] == "backend":
        asyncio.run(backend(int(argv[2]), argv[3]))
    elif len(argv) == 3 and argv[1] == "client":
        asyncio.run(client(int(argv[2])))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
