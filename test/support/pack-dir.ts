// Loaded by mocha before any test (.mocharc.json "require"): the node tests run Node-RED through
// the test helper, which has no user directory, so the pack's files (the payment journal) would
// land in ~/.node-red. They go to one temporary folder for the run instead, removed at the end.
// Tests that start a real Node-RED take POS_PAYMENTS_DIR out of its environment, so it uses
// its own user directory as a user's would.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

if (!process.env.POS_PAYMENTS_DIR) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pos-test-pack-'));
  process.env.POS_PAYMENTS_DIR = dir;
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
}
