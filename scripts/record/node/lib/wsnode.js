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

module.exports = {
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
