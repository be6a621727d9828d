'use strict';
// chromium.js: scenarios where headless Chromium (driven by playwright-core)
// is the WebSocket client. Never downloads a browser: it runs /usr/bin/chromium.

const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');
const { log, listen, once, closeInfo } = require('./util');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** withTimeout resolves when p does or after ms, whichever is first. */
const withTimeout = (p, ms) => Promise.race([p, new Promise((r) => setTimeout(r, ms))]);

/**
 * withPage runs fn(page) in a fresh headless Chromium profile, on an empty
 * page served from http://127.0.0.1:pagePort/ (not captured). A loopback page
 * is needed: Chromium's Local Network Access checks block a WebSocket from
 * about:blank to 127.0.0.1. extraArgs are added to Chromium's command line.
 */
async function withPage(pagePort, fn, extraArgs = []) {
  const pageServer = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>wsclosescan</title>');
  });
  pageServer.listen(pagePort, '127.0.0.1');
  await once(pageServer, 'listening');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsclosescan-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync',
      ...extraArgs,
    ],
  });
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    page.on('console', (m) => log('page console', m.type(), m.text()));
    await page.goto(`http://127.0.0.1:${pagePort}/`);
    return await fn(page);
  } finally {
    await ctx.close();
    pageServer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * pageSocket opens a WebSocket in the page, optionally sends one message and
 * closes with closeArgs once a message arrives, and resolves with what
 * onclose reported.
 */
function pageSocket(page, url, protocols, send, closeArgs) {
  return page.evaluate(
    ([url, protocols, send, closeArgs]) => new Promise((resolve) => {
      const events = [];
      const ws = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
      ws.onopen = () => { events.push('open'); if (send) ws.send(send); };
      ws.onerror = () => events.push('error');
      ws.onmessage = (e) => {
        events.push(`message ${e.data}`);
        if (closeArgs) ws.close(...closeArgs);
      };
      ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean, events });
    }),
    [url, protocols, send, closeArgs],
  );
}

// The page asks for subprotocol chat.v2; the server picks none (handleProtocols
// returns false) so the 101 has no Sec-WebSocket-Protocol: Chromium fails it.
async function chromiumIgnoredSubprotocol(port) {
  const wss = await listen(port, { handleProtocols: () => false });
  const serverClosed = new Promise((resolve) => wss.on('connection', (ws) => {
    ws.on('error', (e) => log('server', 'error', e.code || e.message));
    ws.on('close', (c, r) => { log('server', closeInfo(c, r)); resolve(); });
  }));
  await withPage(port + 1000, async (page) => {
    const r = await pageSocket(page, `ws://127.0.0.1:${port}/`, ['chat.v2'], 'hi', null);
    log('page', 'onclose', JSON.stringify(r));
  });
  await withTimeout(serverClosed, 3000);
  wss.close();
}

// The page exchanges a message and calls ws.close(4000, 'bye from page').
async function chromiumClose4000(port) {
  const wss = await listen(port);
  const serverClosed = new Promise((resolve) => wss.on('connection', (ws) => {
    ws.on('message', (m) => ws.send(`echo: ${m}`));
    ws.on('close', (c, r) => { log('server', closeInfo(c, r)); resolve(); });
  }));
  await withPage(port + 1000, async (page) => {
    const r = await pageSocket(page, `ws://127.0.0.1:${port}/`, null, 'hi from page', [4000, 'bye from page']);
    log('page', 'onclose', JSON.stringify(r));
  });
  await withTimeout(serverClosed, 3000);
  wss.close();
}

// A raw TCP server answers the upgrade with a 101 whose Sec-WebSocket-Accept is
// wrong (the accept for a different key); Chromium must fail the connection.
async function chromiumBadAccept(port) {
  let sock;
  const server = net.createServer((s) => {
    sock = s;
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      if (!buf.includes('\r\n\r\n')) return;
      log('server', 'request line', JSON.stringify(buf.split('\r\n')[0]));
      s.write('HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        // RFC 6455's example accept, for key "dGhlIHNhbXBsZSBub25jZQ==".
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n');
    });
    s.on('end', () => { log('server', 'client sent FIN'); s.end(); });
    s.on('error', (e) => log('server', 'error', e.code || e.message));
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const closed = new Promise((resolve) => server.on('connection', (s) => s.on('close', resolve)));
  await withPage(port + 1000, async (page) => {
    const r = await pageSocket(page, `ws://127.0.0.1:${port}/`, null, 'hi', null);
    log('page', 'onclose', JSON.stringify(r));
  });
  await withTimeout(closed, 3000);
  if (sock) sock.destroy();
  server.close();
}

module.exports = {
  'chromium-ignored-subprotocol': chromiumIgnoredSubprotocol,
  'chromium-close-4000': chromiumClose4000,
  'chromium-bad-accept': chromiumBadAccept,
};

// For wss.js; not enumerable, so that scenario.js does not list them as scenarios.
Object.defineProperties(module.exports, { withPage: { value: withPage }, pageSocket: { value: pageSocket } });
