// `node-red-contrib-pos-payments check` as a user runs it: a child process per check, its
// exit status, its lines and its --json file. A check that left a handle open would keep the
// process alive past its report; the bin script then warns, and these tests fail on that.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PaymentsenseSimulator } from '../../lib/simulators/paymentsense';

const BIN = path.join(__dirname, '../../../bin/pos-payments.js');

interface Run { code: number | null; stdout: string; stderr: string; ms: number }

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    // Only the variables a user's shell would have; no POS_* secrets leak in from the test run.
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('POS_') || k === 'POS_PAYMENTS_DIR'));
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('check CLI (child process)', function () {
  this.timeout(30000);
  let dir = '';
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pos-check-cli-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const provider of ['paymentsense', 'dojo', 'modulus', 'quickpay', 'sensepass']) {
    it(`${provider} --env simulator: exit 0, one line per step, the JSON report, nothing left open`, async () => {
      const json = path.join(dir, `${provider}.json`);
      const run = await cli(['check', provider, '--env', 'simulator', '--json', json]);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout, new RegExp(`^${provider}: every step held`));
      assert.match(run.stdout, /ok {3}handshake: /);
      assert.doesNotMatch(run.stderr, /still open/, 'the check closed everything it opened');
      const report = JSON.parse(fs.readFileSync(json, 'utf8'));
      assert.deepEqual(Object.keys(report).sort(), ['facts', 'ok', 'provider', 'steps']);
      assert.equal(report.provider, provider);
      assert.equal(report.ok, true);
      assert.ok(report.steps.every((s: { ok: boolean }) => s.ok));
    });
  }

  it('a refused token (from POS_PAYMENTSENSE_TOKEN) exits 1 naming the step; the token is printed nowhere', async () => {
    const sim = new PaymentsenseSimulator({ token: 'the-right-token' });
    const { url } = await sim.start();
    try {
      const json = path.join(dir, 'refused.json');
      const run = await cli(['check', 'paymentsense', '--env', 'custom', '--url', url, '--softwareHouseId', 'S', '--installerId', 'I', '--json', json],
        { POS_PAYMENTSENSE_TOKEN: 'wrong-token-5150' });
      assert.equal(run.code, 1);
      assert.match(run.stdout, /FAIL authenticated: no, the token was refused/);
      const all = run.stdout + run.stderr + fs.readFileSync(json, 'utf8');
      assert.doesNotMatch(all, /wrong-token-5150/);
      assert.equal(JSON.parse(fs.readFileSync(json, 'utf8')).ok, false);
    } finally {
      await sim.stop();
    }
  });

  it('missing credentials name the environment variable; a secret given as a flag is refused (exit 2)', async () => {
    const missing = await cli(['check', 'dojo', '--env', 'test', '--softwareHouseId', 'abc']);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /FAIL settings: missing: apiKey/);
    assert.match(missing.stdout, /apiKey: set POS_DOJO_API_KEY/);
    const flag = await cli(['check', 'paymentsense', '--token', 'abc123']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--token is a secret: set POS_PAYMENTSENSE_TOKEN/);
    const unknown = await cli(['check', 'nosuch']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown provider "nosuch"/);
  });

  it('--pay on the simulator takes the payment and looks it up', async () => {
    const run = await cli(['check', 'sensepass', '--env', 'simulator', '--pay', '250']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /ok {3}payment: approved: 250 minor units USD/);
    assert.match(run.stdout, /ok {3}lookup: the look-up found the payment/);
  });
});
