'use strict';
// raw.js: scenarios where one side is written by hand on a net socket, to
// produce behaviour a well-behaved library would not.

const crypto = require('crypto');
const http = require('http');
const net = require('net');
const WebSocket = require('ws');
const { log, once, closeInfo, sleep } = require('./util');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** acceptFor computes Sec-WebSocket-Accept for a Sec-WebSocket-Key. */
const acceptFor = (key) => crypto.createHash('sha1').update(key + GUID).digest('base64');

/** textFrame builds an unmasked, final text frame (payload < 126 bytes). */
const textFrame = (s) => Buffer.concat([Buffer.from([0x81, Buffer.byteLength(s)]), Buffer.from(s)]);

/**
 * rawServer accepts one WebSocket upgrade by hand and calls onFrames(sock,
 * bytes) with every chunk received after the handshake.
 */
async function rawServer(port, onOpen, onFrames) {
  const server = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    let open = false;
    s.on('error', (e) => log('server', 'error', e.code || e.message));
    s.on('data', (d) => {
      if (open) { onFrames(s, d); return; }
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString();
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head)[1];
      s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`);
      open = true;
      onOpen(s);
      if (buf.length > end + 4) onFrames(s, buf.subarray(end + 4));
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

// The client sends close 1000; the hand-written server reads it and ends TCP
// (FIN) without ever sending a close frame.
async function wsNodeUnansweredClose(port) {
  const server = await rawServer(port, (s) => s.write(textFrame('welcome')), (s, d) => {
    if ((d[0] & 0x0f) === 0x8) {
      log('server', `got close frame (${d.length} bytes); ending TCP without a close frame`);
      s.end();
    }
  });
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  ws.on('error', (e) => log('client', 'error', e.code || e.message));
  ws.on('message', (m) => { log('client', 'got', String(m)); ws.close(1000, 'done'); });
  const [code, reason] = await once(ws, 'close');
  log('client', closeInfo(code, reason));
  await sleep(100);
  server.close();
}

/**
 * maskedFrame builds a final, masked client frame (payload < 126 bytes) with
 * a fixed masking key (RFC 6455's example key) so that re-recordings match.
 */
function maskedFrame(opcode, payload) {
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const out = Buffer.alloc(6 + payload.length);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | payload.length;
  key.copy(out, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i] ^ key[i % 4];
  return out;
}

/** reader returns next(pred): resolves with all bytes received once pred(bytes) holds. */
function reader(sock) {
  let buf = Buffer.alloc(0);
  let waiter = null;
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    if (waiter && waiter.pred(buf)) { const w = waiter; waiter = null; const b = buf; buf = Buffer.alloc(0); w.resolve(b); }
  });
  return (pred) => new Promise((resolve) => {
    if (pred(buf)) { const b = buf; buf = Buffer.alloc(0); resolve(b); return; }
    waiter = { pred, resolve };
  });
}

// One keep-alive HTTP GET with a small body, then the upgrade on the same TCP
// connection, a message each way and a clean close started by the client.
async function nodeKeepaliveThenUpgrade(port) {
  const server = http.createServer((req, res) => {
    log('server', 'http', req.method, req.url);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 16 });
    res.end('hello over http\n');
  });
  const wss = new WebSocket.Server({ server });
  wss.on('connection', (ws) => {
    ws.on('message', (m) => ws.send(`echo: ${m}`));
    ws.on('close', (c, r) => log('server', closeInfo(c, r)));
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');

  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  const next = reader(sock);
  const ended = once(sock, 'end');
  sock.write(`GET /status HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\n\r\n`);
  const resp = await next((b) => b.includes('hello over http\n'));
  log('client', 'http response', JSON.stringify(resp.toString().split('\r\n')[0]));
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  sock.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`);
  const up = await next((b) => b.includes('\r\n\r\n'));
  log('client', 'upgrade', JSON.stringify(up.toString().split('\r\n')[0]),
    up.includes(acceptFor(key)) ? 'accept ok' : 'accept WRONG');
  sock.write(maskedFrame(0x1, Buffer.from('hello')));
  const msg = await next((b) => b.length >= 2 && b.length >= 2 + b[1]);
  log('client', 'got', JSON.stringify(msg.subarray(2).toString()));
  const close = Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('done')]);
  sock.write(maskedFrame(0x8, close));
  const reply = await next((b) => b.length >= 4);
  log('client', `got close frame code ${reply.readUInt16BE(2)}`);
  await ended; // the server closes TCP first
  sock.end();
  await sleep(100);
  server.close();
}

module.exports = {
  'node-ws-unanswered-close': wsNodeUnansweredClose,
  'node-keepalive-then-upgrade': nodeKeepaliveThenUpgrade,
};
