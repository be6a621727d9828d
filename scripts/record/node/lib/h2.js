'use strict';
// h2.js: WebSocket over HTTP/2 (RFC 8441) scenarios. A Node `http2` server with
// `settings: { enableConnectProtocol: true }` accepts extended CONNECT streams with
// :protocol websocket and speaks WebSocket frames on the stream (Node has no RFC 8441
// WebSocket of its own, so the few frames are written and read here).

const crypto = require('crypto');
const fs = require('fs');
const http2 = require('http2');
const os = require('os');
const path = require('path');
const { sleep, log, once } = require('./util');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** frame encodes one final WebSocket frame; clients mask. */
function frame(op, payload, masked) {
  payload = Buffer.from(payload);
  const n = payload.length;
  const head = [0x80 | op];
  if (n < 126) head.push((masked ? 0x80 : 0) | n);
  else head.push((masked ? 0x80 : 0) | 126, n >> 8, n & 0xff);
  if (!masked) return Buffer.concat([Buffer.from(head), payload]);
  const key = crypto.randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i & 3]));
  return Buffer.concat([Buffer.from(head), key, body]);
}

const closePayload = (code, reason) => Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);

/** readFrames parses the WebSocket frames of a stream and calls fn(op, payload) for each. */
function readFrames(stream, fn) {
  let buf = Buffer.alloc(0);
  stream.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2) {
      const op = buf[0] & 0x0f;
      let n = buf[1] & 0x7f, off = 2;
      if (n === 126) { if (buf.length < 4) return; n = buf.readUInt16BE(2); off = 4; }
      const masked = buf[1] & 0x80;
      const key = masked ? buf.subarray(off, off + 4) : null;
      if (masked) off += 4;
      if (buf.length < off + n) return;
      let p = Buffer.from(buf.subarray(off, off + n));
      if (key) p = Buffer.from(p.map((b, i) => b ^ key[i & 3]));
      buf = buf.subarray(off + n);
      fn(op, p);
    }
  });
}

const closeText = (p) => p.length >= 2 ? `${p.readUInt16BE(0)} ${JSON.stringify(String(p.subarray(2)))}` : 'no code';

/**
 * wsServer handles RFC 8441 streams on an http2 server: it answers 200, echoes text
 * messages as "echo: MSG", and answers a close frame with the same close frame and
 * END_STREAM. Other requests get a small HTML page. onClose(code text) is called.
 */
function wsServer(server, onClose) {
  server.on('stream', (stream, headers) => {
    if (headers[':method'] !== 'CONNECT') {
      stream.respond({ ':status': 200, 'content-type': 'text/html' });
      stream.end('<!doctype html><title>wsclosescan h2</title>');
      return;
    }
    log('server', 'CONNECT', headers[':protocol'], headers[':path'], 'version', headers['sec-websocket-version']);
    stream.respond({ ':status': 200 });
    readFrames(stream, (op, p) => {
      if (op === 1) { log('server', 'got', String(p)); stream.write(frame(1, `echo: ${p}`, false)); }
      if (op === 8) {
        log('server', 'close frame', closeText(p));
        stream.end(frame(8, p, false));
        onClose(closeText(p));
      }
    });
    stream.on('close', () => log('server', 'stream closed, rstCode', stream.rstCode));
  });
}

// Headless Chromium loads https://127.0.0.1:port/ from a Node http2 server that enables
// extended CONNECT, then opens wss://127.0.0.1:port/ws, which Chromium sends as an
// extended CONNECT on the same HTTP/2 connection; the page sends "hi over h2" and on the
// echo closes with 4000 "bye from page". Key log from --ssl-key-log-file (H2_KEYLOG).
async function chromiumH2(port) {
  const { chromium } = require('playwright-core');
  const keylog = process.env.H2_KEYLOG;
  if (!keylog) throw new Error('H2_KEYLOG is not set');
  fs.writeFileSync(keylog, '');
  const server = http2.createSecureServer({
    cert: fs.readFileSync(process.env.WSS_CERT), key: fs.readFileSync(process.env.WSS_KEY),
    settings: { enableConnectProtocol: true },
  });
  let closed;
  const serverClosed = new Promise((r) => { closed = r; });
  wsServer(server, closed);
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsclosescan-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, ignoreHTTPSErrors: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync',
      `--ssl-key-log-file=${keylog}`, '--ignore-certificate-errors'],
  });
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    page.on('console', (m) => log('page console', m.type(), m.text()));
    await page.goto(`https://127.0.0.1:${port}/`);
    const r = await page.evaluate((url) => new Promise((resolve) => {
      const ws = new WebSocket(url);
      ws.onopen = () => ws.send('hi over h2');
      ws.onmessage = () => ws.close(4000, 'bye from page');
      ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean });
    }), `wss://127.0.0.1:${port}/ws`);
    log('page', 'onclose', JSON.stringify(r));
    await Promise.race([serverClosed, sleep(3000)]);
    await sleep(300);
  } finally {
    await ctx.close();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Node http2 client and server over cleartext h2c (prior knowledge). The client waits
// for the server's SETTINGS (ENABLE_CONNECT_PROTOCOL), opens two WebSocket streams: on
// stream 1 it sends "one", reads the echo and closes with 1000 "done"; the server echoes
// the close with END_STREAM and the client ends its side; stream 3 the client resets
// with CANCEL after the echo of "two". Then the client closes the session (GOAWAY).
async function nodeH2c(port) {
  const server = http2.createServer({ settings: { enableConnectProtocol: true } });
  wsServer(server, () => {});
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const client = http2.connect(`http://127.0.0.1:${port}`);
  await once(client, 'remoteSettings');
  log('client', 'server enableConnectProtocol', client.remoteSettings.enableConnectProtocol);
  const open = (p) => client.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': p,
    ':scheme': 'http', 'sec-websocket-version': '13', origin: `http://127.0.0.1:${port}` }, { endStream: false });
  const one = open('/one');
  await once(one, 'response');
  one.write(frame(1, 'one', true));
  readFrames(one, (op, p) => {
    if (op === 1) { log('client', 'got', String(p)); one.write(frame(8, closePayload(1000, 'done'), true)); }
    if (op === 8) { log('client', 'close frame', closeText(p)); one.end(); }
  });
  await once(one, 'close');
  const two = open('/two');
  await once(two, 'response');
  two.write(frame(1, 'two', true));
  await new Promise((resolve) => readFrames(two, (op, p) => { log('client', 'got', String(p)); resolve(); }));
  two.close(http2.constants.NGHTTP2_CANCEL);
  await once(two, 'close');
  await sleep(50);
  client.close();
  await once(client, 'close');
  server.close();
}

module.exports = {
  'chromium-h2-wss': chromiumH2,
  'node-h2c': nodeH2c,
};
