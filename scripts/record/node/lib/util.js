'use strict';
// util.js holds small helpers shared by the Node scenarios.

const { WebSocketServer } = require('ws');

/** sleep resolves after ms milliseconds. */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** log prints one progress line to stderr, prefixed by the side. */
const log = (side, ...args) => console.error(`${side}:`, ...args);

/** listen starts a ws server on 127.0.0.1:port and resolves when listening. */
function listen(port, opts = {}) {
  return new Promise((resolve, reject) => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port, ...opts });
    wss.once('listening', () => resolve(wss));
    wss.once('error', reject);
  });
}

/** once resolves with the arguments of the next `event` on emitter. */
function once(emitter, event) {
  return new Promise((resolve) => emitter.once(event, (...a) => resolve(a)));
}

/** closeInfo formats a ws 'close' event's code and reason. */
const closeInfo = (code, reason) => `close event code=${code} reason=${JSON.stringify(String(reason))}`;

module.exports = { sleep, log, listen, once, closeInfo };
