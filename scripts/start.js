#!/usr/bin/env node
// `npm start`: Node-RED with this pack, the provider simulators and the example flows.
// The first start deploys the examples; later starts keep whatever the user has built.
//
// Environment (for tests and for people with port clashes):
//   POS_USER_DIR   Node-RED user directory (default ./.node-red)
//   POS_PORT       editor port (default 1880)
//   POS_SIMULATOR_PORT  first port of the standalone simulators (default 8701; 0 = off)
'use strict';
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const pkg = require(path.join(root, 'package.json'));
const userDir = path.resolve(process.env.POS_USER_DIR || path.join(root, '.node-red'));
const port = Number(process.env.POS_PORT || 1880);
const simPort = Number(process.env.POS_SIMULATOR_PORT ?? 8701);

if (!fs.existsSync(path.join(root, 'dist', 'nodes', 'pos-pay.js'))) {
  const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status || 1);
}

fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });

// The pack is installed into the user directory the way `npm install <path>` would: a link.
const link = path.join(userDir, 'node_modules', pkg.name);
let linked = false;
try { linked = fs.realpathSync(link) === fs.realpathSync(root); } catch { /* not there yet */ }
if (!linked) {
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(root, link, 'junction');
}
const userPkg = path.join(userDir, 'package.json');
if (!fs.existsSync(userPkg)) {
  fs.writeFileSync(userPkg, JSON.stringify({ name: 'node-red-project', private: true, dependencies: { [pkg.name]: `file:${root}` } }, null, 2));
}

const settingsFile = path.join(userDir, 'settings.js');
if (!fs.existsSync(settingsFile)) {
  fs.writeFileSync(settingsFile, `// Written by npm start; yours to edit. Node-RED's full settings reference:
// node_modules/node-red/settings.js
module.exports = {
    uiHost: '127.0.0.1',
    uiPort: ${port},
    flowFile: 'flows.json',
    flowFilePretty: true,
    // The payment journal lives in context: a file store keeps it across restarts, so a
    // payment interrupted by a restart is asked about rather than forgotten.
    contextStorage: {
        default: { module: 'localfilesystem' }
    },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    // A local demo with its own simulators: no version check to ask about on first open.
    telemetry: { enabled: false, updateNotification: false },
    editorTheme: { projects: { enabled: false }, tours: false }
};
`);
}

// First start only: the example flows, one tab each, sharing the simulator config node.
const flowsFile = path.join(userDir, 'flows.json');
if (!fs.existsSync(flowsFile)) {
  const seen = new Set();
  const flows = [];
  const dir = path.join(root, 'examples');
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    for (const node of JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'))) {
      if (seen.has(node.id)) continue;
      seen.add(node.id);
      flows.push(node);
    }
  }
  fs.writeFileSync(flowsFile, JSON.stringify(flows, null, 4));
  console.log(`Deployed the example flows into ${path.relative(process.cwd(), flowsFile) || flowsFile}`);
}

let simulators;
async function main() {
  if (simPort > 0) {
    const { startSimulators } = require(path.join(root, 'dist', 'lib', 'simulators', 'cli.js'));
    try {
      simulators = await startSimulators(simPort);
      for (const line of simulators.lines) console.log(line);
    } catch (err) {
      console.warn(`Standalone simulators not started (${err.message}); the example flows use their own built-in simulator and still work.`);
    }
  }
  const red = spawn(process.execPath, [require.resolve('node-red/red.js', { paths: [root] }), '--userDir', userDir, '--port', String(port), '--settings', settingsFile],
    { stdio: 'inherit', cwd: root });
  console.log(`Node-RED editor: http://127.0.0.1:${port}`);
  const stop = (signal) => red.kill(signal);
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  red.on('exit', async (code) => {
    if (simulators) await simulators.stop();
    process.exit(code ?? 0);
  });
}
main();
