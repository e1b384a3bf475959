#!/usr/bin/env node
// Runs the Node-RED Flow Library scorecard (shared/tools/scorecard, beside this repository
// in the workplace and in CI). Outside the workplace the tool is absent: say so and fail in
// CI, where a missing check must never pass silently.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const tool = path.resolve(root, '..', 'shared', 'tools', 'scorecard', 'run.js');
if (!fs.existsSync(tool)) {
  console.error(`scorecard: ${tool} not found`);
  process.exit(process.env.CI ? 1 : 0);
}
const run = spawnSync(process.execPath, [tool, root], { stdio: 'inherit' });
process.exit(run.status === null ? 1 : run.status);
