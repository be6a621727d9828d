'use strict';
// scenario.js runs the Node peers used by scripts/record-captures.sh.
//
// usage: node scenario.js SCENARIO PORT [PORT2]
//
// Each scenario runs its server and client in this process on fixed ports and
// prints what each side's API reported, so the README can quote it.

const scenarios = {
  ...require('./lib/wsnode'),
  ...require('./lib/chromium'),
  ...require('./lib/raw'),
  ...require('./lib/wss'),
  ...require('./lib/h2'),
};

async function main() {
  const [name, ...ports] = process.argv.slice(2);
  const f = scenarios[name];
  if (!f) {
    console.error(`scenario.js: error: unknown scenario ${JSON.stringify(name)}; known: ${Object.keys(scenarios).join(' ')}`);
    process.exit(2);
  }
  await f(...ports.map(Number));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error('scenario.js: error:', err);
    process.exit(1);
  },
);
