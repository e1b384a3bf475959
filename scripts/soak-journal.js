#!/usr/bin/env node
// The journal soak (not part of npm test): the kill -9 crash test of test/e2e/journal-crash.test.ts
// with many more trials, 500 by default (about 25 minutes). Prints the test's own summary line.
//   npm run soak [-- <trials>]
'use strict';
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const trials = Number(process.argv[2]) || 500;
const build = spawnSync(process.execPath, [path.join(__dirname, 'build.js')], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status || 1);
const mocha = require.resolve('mocha/bin/mocha.js', { paths: [root] });
const run = spawnSync(process.execPath, [mocha, '--no-config', '--require', 'dist/test/support/pack-dir.js', '--timeout', '0', '--exit',
  '-g', 'killed', 'dist/test/e2e/journal-crash.test.js'], { cwd: root, stdio: 'inherit', env: { ...process.env, POS_CRASH_TRIALS: String(trials) } });
process.exit(run.status === null ? 1 : run.status);
