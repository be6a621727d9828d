'use strict';
// raw.js: scenarios where one side is written by hand on a net socket, to
// produce behaviour a well-behaved library would not.

const crypto = require('crypto');
const http = require('http');
const net = require('net');
const WebSocket = require('ws');
const { log, listen, once, closeInfo, sleep } = require('./util');

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

// INVALID_CLOSES are the close frame payloads the invalid-close scenarios send,
// one connection each: codes 1005, 1006 and 999 (not allowed on the wire,
// RFC 6455 section 7.4), code 1000 with a reason that is not UTF-8 (ff fe),
// and a valid close 1000 "done" as the control.
const INVALID_CLOSES = [
  ['1005', Buffer.from([0x03, 0xed])],
  ['1006', Buffer.from([0x03, 0xee])],
  ['999', Buffer.from([0x03, 0xe7])],
  ['1000 + ff fe', Buffer.from([0x03, 0xe8, 0xff, 0xfe])],
  ['1000 "done"', Buffer.from([0x03, 0xe8, 0x64, 0x6f, 0x6e, 0x65])],
];

/** closeSummary describes the server frames in bytes (unmasked, small). */
function closeSummary(b) {
  const out = [];
  for (let i = 0; i + 2 <= b.length;) {
    const op = b[i] & 0x0f;
    const n = b[i + 1] & 0x7f;
    const p = b.subarray(i + 2, i + 2 + n);
    out.push(op === 0x8 && n >= 2 ? `close ${p.readUInt16BE(0)} ${JSON.stringify(p.subarray(2).toString())}` : `opcode ${op} (${n} bytes)`);
    i += 2 + n;
  }
  return out.join(', ') || 'no frame';
}

// A hand-written client (correct upgrade, masked frames) sends one close frame
// per connection from INVALID_CLOSES to a Node ws echo server, then reads what
// the server answers until the server ends TCP, and ends its side.
async function nodeWsInvalidClose(port) {
  const wss = await listen(port);
  const serverClosed = [];
  wss.on('connection', (ws) => {
    serverClosed.push(new Promise((resolve) => {
      ws.on('error', (e) => log('server', 'error', e.code, JSON.stringify(e.message)));
      ws.on('close', (c, r) => resolve(closeInfo(c, r)));
    }));
  });
  for (let i = 0; i < INVALID_CLOSES.length; i++) {
    const [what, payload] = INVALID_CLOSES[i];
    const sock = net.connect(port, '127.0.0.1');
    await once(sock, 'connect');
    const next = reader(sock);
    const ended = once(sock, 'end');
    const key = Buffer.from(`wsclosescan-key${i}`).toString('base64');
    sock.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`);
    const up = await next((b) => b.includes('\r\n\r\n'));
    log('client', `conn ${i + 1}: upgrade`, JSON.stringify(up.toString().split('\r\n')[0]),
      up.includes(acceptFor(key)) ? 'accept ok' : 'accept WRONG');
    sock.write(maskedFrame(0x8, payload));
    await ended;
    const rest = next(() => true);
    log('client', `conn ${i + 1}: sent close ${what}; server answered: ${closeSummary(await rest)}, then FIN`);
    sock.end();
    await once(sock, 'close');
    log('server', `conn ${i + 1}:`, await serverClosed[i]);
    await sleep(50);
  }
  wss.close();
}

module.exports = {
  'node-ws-unanswered-close': wsNodeUnansweredClose,
  'node-keepalive-then-upgrade': nodeKeepaliveThenUpgrade,
  'node-ws-invalid-close': nodeWsInvalidClose,
};
