#!/usr/bin/env node
// The Node-RED Flow Library scorecard for this package: `node-red-dev validate` (a
// devDependency), the same checks the Flow Library runs when a package is published, with the
// unreachable online catalogue answered by scripts/scorecard-offline.js. Part of `npm test`.
// Prints one line per check; exits 0 only when every check passes, 1 when any fails or warns,
// 2 when the scorecard could not run at all (never silently 0).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');

let bin;
try {
  bin = path.join(path.dirname(require.resolve('node-red-dev/package.json', { paths: [root] })), 'bin', 'run');
} catch {
  console.error('scorecard: node-red-dev is not installed; run `npm install` in ' + root);
  process.exit(2);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pos-scorecard-'));
const out = path.join(tmp, 'scorecard.json');
const run = spawnSync(process.execPath, ['-r', path.join(__dirname, 'scorecard-offline.js'), bin, 'validate', '-p', root, '-o', out], {
  encoding: 'utf8',
  timeout: 300000,
});
let card;
try {
  card = JSON.parse(fs.readFileSync(out, 'utf8'));
} catch {
  card = undefined;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
if (!card) {
  // node-red-dev wrote nothing: what it printed says why.
  process.stdout.write(run.stdout || '');
  process.stderr.write(run.stderr || '');
  console.error(`scorecard: node-red-dev wrote no scorecard (${run.error ? run.error.message : 'exit ' + run.status})`);
  process.exit(2);
}

const checks = Object.entries(card).filter(([, v]) => v && typeof v === 'object' && 'test' in v);
let failed = 0;
for (const [id, v] of checks) {
  if (v.test !== true) failed++;
  const note = v.note ? ' ' + [].concat(v.note).join('; ') : '';
  console.log(`${v.test === true ? 'pass' : 'FAIL'} ${id}${note}`);
}
if (checks.length === 0) {
  process.stdout.write(run.stdout || '');
  console.error('scorecard: the scorecard has no checks');
  process.exit(2);
}
if (failed) process.stdout.write(run.stdout || '');
console.log(`scorecard: ${checks.length - failed} of ${checks.length} checks pass`);
process.exit(failed ? 1 : 0);
