'use strict';
// wsnode.js: scenarios with a Node `ws` client and server.

const WebSocket = require('ws');
const { sleep, log, listen, once, closeInfo } = require('./util');

/** connect opens a ws client to 127.0.0.1:port and waits for 'open'. */
async function connect(port, opts) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, opts);
  ws.on('error', (e) => log('client', 'error', e.code || e.message));
  await once(ws, 'open');
  return ws;
}

// Server sends close 1011 "internal error", then resets its socket (SO_LINGER 0).
async function wsNode1011ThenRST(port) {
  const wss = await listen(port);
  const serverDone = new Promise((resolve) => {
    wss.on('connection', (ws) => {
      ws.on('error', (e) => log('server', 'error', e.code || e.message));
      ws.on('close', (c, r) => { log('server', closeInfo(c, r)); resolve(); });
      ws.once('message', (m) => {
        log('server', 'got', String(m));
        ws.close(1011, 'internal error');
        // The empty write's callback runs once the close frame is handed to the
        // kernel; then reset instead of a graceful FIN.
        ws._socket.write('', () => ws._socket.resetAndDestroy());
      });
    });
  });
  const ws = await connect(port);
  const clientClosed = once(ws, 'close');
  ws.send('do work');
  const [code, reason] = await clientClosed;
  log('client', closeInfo(code, reason));
  await serverDone;
  wss.close();
}

// Server closes with 4001 "session expired"; the client echoes; clean.
async function wsNodeServer4001(port) {
  const wss = await listen(port);
  const serverDone = new Promise((resolve) => {
    wss.on('connection', (ws) => {
      ws.on('close', (c, r) => { log('server', closeInfo(c, r)); resolve(); });
      ws.once('message', (m) => {
        log('server', 'got', String(m));
        ws.send('ok');
        setTimeout(() => ws.close(4001, 'session expired'), 20);
      });
    });
  });
  const ws = await connect(port);
  const clientClosed = once(ws, 'close');
  ws.on('message', (m) => log('client', 'got', String(m)));
  ws.send('hello');
  const [code, reason] = await clientClosed;
  log('client', closeInfo(code, reason));
  await serverDone;
  wss.close();
}

// A connection still open when the capture stops: exchange messages, then
// idle. The recording script stops the capture while this process sleeps and
// kills it afterwards.
async function wsNodeOpenAtEnd(port) {
  const wss = await listen(port);
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo: ${m}`)));
  const ws = await connect(port);
  ws.on('message', (m) => log('client', 'got', String(m)));
  ws.send('still here');
  await sleep(60000);
}

// Server sends close 1011 "internal error" and resets its socket (SO_LINGER 0)
// shortly after: 1 ms after the client (same process) has echoed the close and
// ended its socket (FIN), at most 50 ms after the close. It stops reading from
// the kernel right after its close frame (readStop on the libuv handle;
// pause() alone still reads into Node's buffer, which ws drains on 'close'),
// so the client's echo and FIN reach the server's kernel before the RST but
// never the ws server.
async function wsNodeCloseThenReset(port) {
  const wss = await listen(port);
  let client;
  const serverDone = new Promise((resolve) => {
    wss.on('connection', (ws) => {
      ws.on('error', (e) => log('server', 'error', e.code || e.message));
      ws.on('close', (c, r) => { log('server', closeInfo(c, r)); resolve(); });
      ws.once('message', (m) => {
        log('server', 'got', String(m));
        ws.close(1011, 'internal error');
        const start = Date.now();
        ws._socket.pause();
        ws._socket._handle.readStop();
        const reset = () => {
          if (ws._socket.destroyed) return;
          log('server', `resetAndDestroy ${Date.now() - start} ms after close (client echo sent: ${client._closeFrameSent})`);
          ws._socket.resetAndDestroy();
        };
        client._socket.once('finish', () => setTimeout(reset, 1));
        setTimeout(reset, 50);
      });
    });
  });
  const ws = await connect(port);
  client = ws;
  const clientClosed = once(ws, 'close');
  ws.send('do work');
  const [code, reason] = await clientClosed;
  log('client', closeInfo(code, reason));
  await serverDone;
  wss.close();
}

// A long-lived connection whose capture starts late: messages are exchanged,
// "ready" is printed, and the process waits for SIGUSR2 (sent by the recording
// script once tcpdump runs); then one more message each way and a close 1000
// "done" from the client, echoed by the server.
async function wsNodeCaptureStartedLate(port) {
  const wss = await listen(port);
  const serverDone = new Promise((resolve) => wss.on('connection', (ws) => {
    ws.on('message', (m) => ws.send(`echo: ${m}`));
    ws.on('close', (c, r) => { log('server', closeInfo(c, r)); resolve(); });
  }));
  const ws = await connect(port);
  const next = () => once(ws, 'message').then(([m]) => { log('client', 'got', String(m)); });
  for (const m of ['first', 'second', 'third']) {
    const got = next();
    ws.send(m);
    await got;
  }
  const go = once(process, 'SIGUSR2');
  console.log('ready');
  await go;
  const got = next();
  ws.send('after the capture started');
  await got;
  const clientClosed = once(ws, 'close');
  ws.close(1000, 'done');
  const [code, reason] = await clientClosed;
  log('client', closeInfo(code, reason));
  await serverDone;
  wss.close();
}

// Frames longer than a snaplen-96 packet keeps: the client sends a 200-byte
// text, the server echoes it, the client closes with 4000 and a 60-byte
// reason, the server echoes the close.
async function wsNodeLongFrames(port) {
  const wss = await listen(port);
  const serverDone = new Promise((resolve) => wss.on('connection', (ws) => {
    ws.on('message', (m) => ws.send(String(m)));
    ws.on('close', (c, r) => { log('server', closeInfo(c, r)); resolve(); });
  }));
  const ws = await connect(port, { perMessageDeflate: false });
  const got = once(ws, 'message');
  ws.send('0123456789'.repeat(20));
  log('client', 'got', `${String((await got)[0]).length} bytes`);
  const clientClosed = once(ws, 'close');
  ws.close(4000, 'client done after one long message; this reason is 60 bytes!');
  const [code, reason] = await clientClosed;
  log('client', closeInfo(code, reason));
  await serverDone;
  wss.close();
}

module.exports = {
  'node-ws-long-frames': wsNodeLongFrames,
  'node-ws-capture-started-late': wsNodeCaptureStartedLate,
  'node-ws-close-then-reset': wsNodeCloseThenReset,
  'node-ws-1011-then-rst': wsNode1011ThenRST,
  'node-ws-server-4001': wsNodeServer4001,
  'node-ws-open-at-end': wsNodeOpenAtEnd,
};

// Client -> nginx (front port) -> ws backend (backend port). One message, then
// idle until nginx's proxy_read_timeout closes both TCP connections.
async function nginxIdleTimeout(front, backend) {
  const wss = await listen(backend);
  const serverClosed = new Promise((resolve) => wss.on('connection', (ws) => {
    ws.on('message', (m) => ws.send(`echo: ${m}`));
    ws.on('error', (e) => log('backend', 'error', e.code || e.message));
    ws.on('close', (c, r) => { log('backend', closeInfo(c, r)); resolve(); });
  }));
  const ws = await connect(front);
  const clientClosed = once(ws, 'close');
  ws.on('message', (m) => log('client', 'got', String(m)));
  ws.send('hello via nginx');
  const start = Date.now();
  const [code, reason] = await clientClosed;
  log('client', closeInfo(code, reason), `after ${((Date.now() - start) / 1000).toFixed(1)} s`);
  await serverClosed;
  wss.close();
}

module.exports['nginx-idle-timeout'] = nginxIdleTimeout;
