// The editor as a person sees it, in Debian's Chromium driven by playwright-core: the
// palette, the example flow with live status, the edit dialog and the help text.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

// These run inside the page (page.evaluate), where the editor's globals live.
declare const window: any;
declare const document: any;

const root = path.resolve(__dirname, '../../..');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const RAW_KEY = /\bpos-[a-z-]+\.[a-zA-Z]+\.[a-zA-Z.]+/;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

describe('editor in a real browser', function () {
  this.timeout(120000);
  let userDir: string;
  let port: number;
  let red: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    // A missing browser is a failure, never a skip: .ci/run installs Debian's chromium.
    assert.ok(fs.existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: install Debian's "chromium" package (apt-get install chromium)`);
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pos-browser-'));
    port = await freePort();
    let output = '';
    red = spawn(process.execPath, [path.join(root, 'scripts', 'start.js')], {
      cwd: root,
      env: { ...process.env, POS_USER_DIR: userDir, POS_PORT: String(port), POS_SIMULATOR_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    red.stdout!.on('data', (d) => { output += d; });
    red.stderr!.on('data', (d) => { output += d; });
    const end = Date.now() + 60000;
    while (!/Started flows/.test(output)) {
      if (Date.now() > end || red.exitCode !== null) throw new Error(`Node-RED did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (m) => { if (m.type() === 'error' && /pos-/.test(m.text())) pageErrors.push(m.text()); });
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => window.RED?.nodes?.getType?.('pos-pay') && document.querySelector('#red-ui-palette-container'), null, { timeout: 30000 });
  });

  after(async () => {
    await browser?.close();
    if (red && red.exitCode === null) {
      const exited = new Promise((r) => red!.once('exit', r));
      red.kill('SIGINT');
      const timer = setTimeout(() => red!.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    }
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('the payments palette category holds the flow nodes', async () => {
    for (const type of ['pos-pay', 'pos-refund', 'pos-terminals', 'pos-notification-in']) {
      const inCategory = await page.locator(`#red-ui-palette-payments .red-ui-palette-node[data-palette-type="${type}"]`).count();
      assert.equal(inCategory, 1, `${type} in the payments category`);
    }
    const labels = await page.locator('#red-ui-palette-payments .red-ui-palette-label').allTextContents();
    for (const label of labels) assert.doesNotMatch(label, RAW_KEY);
  });

  it('the example flow shows the live connection status under the pay node', async () => {
    const payId = await page.evaluate(() => {
      let id = '';
      window.RED.nodes.eachNode((n: any) => { if (!id && n.type === 'pos-pay') id = n.id; });
      return id;
    });
    assert.ok(payId, 'a pos-pay node in the example flow');
    // Every pack node in the examples passes the editor's own validation (no red triangle).
    const invalid = await page.evaluate(() => {
      const bad: string[] = [];
      window.RED.nodes.eachNode((n: any) => { if (/^pos-/.test(n.type) && n.valid === false) bad.push(`${n.type} ${n.id}`); });
      window.RED.nodes.eachConfig((n: any) => { if (/^pos-/.test(n.type) && n.valid === false) bad.push(`${n.type} ${n.id}`); });
      return bad;
    });
    assert.deepEqual(invalid, []);
    await page.evaluate((id) => window.RED.workspaces.show(window.RED.nodes.node(id).z), payId);
    await page.waitForFunction((id) => /connected/.test(window.RED.nodes.node(id)?.status?.text ?? ''), payId, { timeout: 20000 });
    // And what the canvas draws under the node, not only the editor's model of it.
    const drawn = await page.locator('.red-ui-flow-node-status-label').allTextContents();
    assert.ok(drawn.some((t) => /connected/.test(t)), drawn.join(' | '));
  });

  it('the pay node dialog reads well: provider, connection, terminal; no raw keys', async () => {
    await page.evaluate(() => {
      let node: any;
      window.RED.nodes.eachNode((n: any) => { if (!node && n.type === 'pos-pay') node = n; });
      window.RED.editor.edit(node);
    });
    const tray = page.locator('.red-ui-tray').last();
    await tray.locator('#node-input-provider').waitFor({ timeout: 10000 });
    const providers = await tray.locator('#node-input-provider option').allTextContents();
    assert.ok(providers.some((p) => /Paymentsense/.test(p)), providers.join(','));
    assert.equal(await tray.locator('#node-input-paymentsense').isVisible(), true);
    for (const id of ['#node-input-terminalId', '#node-input-currency', '#node-input-timeout']) assert.equal(await tray.locator(id).count(), 1, id);
    await page.screenshot({ path: path.join(os.tmpdir(), 'pos-pay-dialog.png') });
    assert.doesNotMatch(await tray.innerText(), RAW_KEY);
    await page.evaluate(() => window.RED.tray.close());
  });

  it('help follows the Node-RED style', async () => {
    const help = await page.evaluate(() => {
      const html = window.RED.nodes.getNodeHelp('pos-pay') as string;
      return html;
    });
    for (const h of ['Inputs', 'Outputs', 'Details', 'References']) assert.match(help, new RegExp(`<h3>${h}</h3>`));
  });

  it('no page errors from the pack', () => {
    assert.deepEqual(pageErrors, []);
  });
});
