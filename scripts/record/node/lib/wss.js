'use strict';
// wss.js: WebSocket over TLS (wss://) scenarios with a Node `ws` server on an
// `https` server. The certificate and key (a throwaway self-signed pair made
// by the recording script) come from WSS_CERT and WSS_KEY; the client's TLS
// key log (NSS format) is written to WSS_KEYLOG.

const fs = require('fs');
const https = require('https');
const WebSocket = require('ws');
const { sleep, log, once, closeInfo } = require('./util');
const { withPage, pageSocket } = require('./chromium');

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

/** listenTLS starts an https server with a ws server on 127.0.0.1:port. */
async function listenTLS(port) {
  const server = https.createServer({ cert: fs.readFileSync(env('WSS_CERT')), key: fs.readFileSync(env('WSS_KEY')) });
  const wss = new WebSocket.Server({ server });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return { server, wss, close: () => { wss.close(); server.close(); } };
}

/** tlsInfo describes a TLS socket's version and cipher suite. */
const tlsInfo = (s) => `${s.getProtocol()} ${s.getCipher().standardName}`;

// Node ws client and server over TLS 1.3 (OpenSSL picks TLS_AES_256_GCM_SHA384).
// C sends "hello over wss"; S answers "echo: hello over wss", then three more
// texts 20 ms apart ("server message 1".."3", one TLS record and TCP segment
// each); C then closes with 1000 "done"; S echoes the close.
async function wssNodeTLS13(port) {
  const keylog = env('WSS_KEYLOG');
  fs.writeFileSync(keylog, '');
  const srv = await listenTLS(port);
  const serverDone = new Promise((resolve) => srv.wss.on('connection', (ws, req) => {
    log('server', 'tls', tlsInfo(req.socket));
    ws.on('error', (e) => log('server', 'error', e.code || e.message));
    ws.on('close', (c, r) => { log('server', closeInfo(c, r)); resolve(); });
    ws.on('message', async (m) => {
      log('server', 'got', String(m));
      ws.send(`echo: ${m}`);
      for (let i = 1; i <= 3; i++) {
        await sleep(20);
        ws.send(`server message ${i}`);
      }
    });
  }));
  const ws = new WebSocket(`wss://127.0.0.1:${port}/`, { rejectUnauthorized: false, perMessageDeflate: false });
  ws._req.on('socket', (s) => s.on('keylog', (line) => fs.appendFileSync(keylog, line)));
  ws.on('error', (e) => log('client', 'error', e.code || e.message));
  await once(ws, 'open');
  log('client', 'tls', tlsInfo(ws._socket));
  const clientClosed = once(ws, 'close');
  ws.on('message', (m) => {
    log('client', 'got', String(m));
    if (String(m) === 'server message 3') ws.close(1000, 'done');
  });
  ws.send('hello over wss');
  const [code, reason] = await clientClosed;
  log('client', closeInfo(code, reason));
  await serverDone;
  srv.close();
}

// Headless Chromium opens wss://127.0.0.1:port/ (certificate errors ignored,
// key log from --ssl-key-log-file), sends "hi from page", and on the echo
// closes with 4000 "bye from page"; Node ws server.
async function wssChromium(port) {
  const keylog = env('WSS_KEYLOG');
  fs.writeFileSync(keylog, '');
  const srv = await listenTLS(port);
  const serverClosed = new Promise((resolve) => srv.wss.on('connection', (ws, req) => {
    log('server', 'tls', tlsInfo(req.socket));
    ws.on('message', (m) => { log('server', 'got', String(m)); ws.send(`echo: ${m}`); });
    ws.on('close', (c, r) => { log('server', closeInfo(c, r)); resolve(); });
  }));
  await withPage(port + 1000, async (page) => {
    const r = await pageSocket(page, `wss://127.0.0.1:${port}/`, null, 'hi from page', [4000, 'bye from page']);
    log('page', 'onclose', JSON.stringify(r));
  }, [`--ssl-key-log-file=${keylog}`, '--ignore-certificate-errors']);
  await Promise.race([serverClosed, sleep(3000)]);
  srv.close();
}

// A Node ws server for a client in another process (the OpenSSL s_client of
// the KeyUpdate scenario): it prints "listening" on stdout once it is, echoes
// every message as "echo: MSG" and exits once its one connection has closed.
async function wssServer(port) {
  const srv = await listenTLS(port);
  console.log('listening');
  await new Promise((resolve) => srv.wss.on('connection', (ws, req) => {
    log('server', 'tls', tlsInfo(req.socket));
    ws.on('error', (e) => log('server', 'error', e.code || e.message));
    ws.on('message', (m) => { log('server', 'got', String(m)); ws.send(`echo: ${m}`); });
    ws.on('close', (c, r) => { log('server', closeInfo(c, r)); resolve(); });
  }));
  await sleep(200);
  srv.close();
}

module.exports = {
  'node-ws-wss-tls13': wssNodeTLS13,
  'chromium-wss': wssChromium,
  'node-ws-wss-server': wssServer,
};
