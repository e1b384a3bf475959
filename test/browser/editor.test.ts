// The Node-RED editor, for real: `npm start` (scripts/start.js) with the example flows, driven
// in headless Chromium (Debian's `chromium` package) through playwright-core. Checks what a
// person sees: the palette, the status under the pay node, the edit dialogs (translated, the
// right rows for the chosen provider and environment), the help, and an approved payment in
// the Debug sidebar after clicking an inject button. One Node-RED and one browser for the file.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { QuickStart } from '../support/quick-start';

// The callbacks given to page.evaluate / waitForFunction run in the browser; the test project
// compiles without the DOM lib, so the browser globals they use are declared loosely here.
declare const RED: any;
declare const document: any;
declare const window: any;

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SHOTS = { pay: '/tmp/pos-pay-dialog.png', config: '/tmp/pos-config-dialog.png', debug: '/tmp/pos-debug-sidebar.png' };
/** An untranslated message-catalog key such as `pos-pay.label.terminalId`. */
const RAW_KEY = /\bpos-[a-z-]+\.[a-zA-Z.]+/;

interface FlowNode { id: string; type: string; z?: string; wires?: string[][]; payload?: string; name?: string; [k: string]: unknown }

describe('editor: the pack in the Node-RED editor (headless Chromium)', function () {
  this.timeout(120000);
  const app = new QuickStart();
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const ourConsoleErrors: string[] = [];
  let flows: FlowNode[] = [];
  let payId = '';
  let configId = '';
  let injectId = '';

  const api = (p: string, init?: RequestInit) => app.api(p, init);
  const editorUrl = () => `http://127.0.0.1:${app.port}/`;

  before(async function () {
    // Never skipped: without a browser this test cannot say anything, so it says so.
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(`Chromium not found at ${CHROMIUM}. The editor tests drive a real browser: install Debian's ` +
        '`chromium` package (apt-get install chromium) or set CHROMIUM_PATH to a Chromium/Chrome executable.');
    }

    await app.start();

    flows = (await (await api('/flows')).json()) as FlowNode[];
    const pay = flows.find((n) => n.type === 'pos-pay' && flows.some((i) => i.type === 'inject' && i.z === n.z && /1250/.test(String(i.payload)) && (i.wires ?? []).flat().includes(n.id)));
    assert.ok(pay, 'the example flow has a pay node fed by the approved-payment inject');
    payId = pay.id;
    configId = String(pay.paymentsense);
    injectId = flows.find((i) => i.type === 'inject' && /1250/.test(String(i.payload)) && (i.wires ?? []).flat().includes(payId))!.id;
    assert.ok(flows.some((n) => n.id === configId && n.type === 'pos-paymentsense'), 'the pay node uses a pos-paymentsense config node');

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 }, locale: 'en-US' });
    page.setDefaultTimeout(15000);
    page.on('pageerror', (err) => { pageErrors.push(`${err.name}: ${err.message}\n${err.stack ?? ''}`); });
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const where = msg.location()?.url ?? '';
      if (/pos-/.test(msg.text()) || /pos-/.test(where)) ourConsoleErrors.push(`${msg.text()} (${where})`);
    });
    // The editor asks the internet for the Flow Library catalogue; keep the test on loopback.
    await page.route((url) => !/^(127\.0\.0\.1|localhost)$/.test(url.hostname) && url.protocol !== 'data:', (route) => route.abort());

    await page.goto(editorUrl(), { waitUntil: 'domcontentloaded', timeout: 30000 });
    await page.waitForFunction(() => !!(window.RED && RED.nodes && RED.nodes.filterNodes({ type: 'pos-pay' }).length > 0
      && document.querySelector('.red-ui-palette-node[data-palette-type="pos-pay"]')), null, { timeout: 30000 });
    // Node-RED 4 asks once about update notifications, in a modal, unless settings.js says
    // (npm start's settings do); answer it if it comes, so it cannot swallow the clicks below.
    if (await page.evaluate(() => RED.settings.telemetryEnabled === undefined)) {
      const noThanks = page.getByRole('button', { name: 'No, do not enable notifications' });
      await noThanks.waitFor({ state: 'visible', timeout: 10000 }).then(() => noThanks.click(), () => undefined);
    }
  });

  after(async function () {
    this.timeout(30000);
    if (browser) await browser.close().catch(() => undefined);
    browser = undefined;
    await app.dispose();
  });

  /** Every piece of text a person can read in the top edit tray: text, placeholders, titles, options. */
  async function trayTexts(): Promise<string[]> {
    return page.evaluate(() => {
      const trays = document.querySelectorAll('.red-ui-tray');
      const tray = trays[trays.length - 1];
      const out: string[] = [];
      const walker = document.createTreeWalker(tray, 4 /* NodeFilter.SHOW_TEXT */);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const t = String(n.textContent).trim();
        if (t && !n.parentElement.closest('script, style, .red-ui-editor-text-container, .monaco-editor')) out.push(t);
      }
      for (const el of tray.querySelectorAll('[placeholder], [title]')) {
        for (const a of ['placeholder', 'title']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
      }
      return out;
    });
  }

  function assertTranslated(texts: string[], what: string): void {
    const raw = texts.filter((t) => RAW_KEY.test(t));
    assert.deepEqual(raw, [], `${what} shows untranslated catalog keys`);
  }

  async function visible(selector: string): Promise<boolean> {
    return page.locator(selector).first().isVisible();
  }

  it('the palette has a payments category with pay, refund, terminals and notification in', async () => {
    const category = page.locator('#red-ui-palette-container-payments');
    await category.waitFor({ state: 'attached' });
    const header = (await page.locator('#red-ui-palette-header-payments').innerText()).trim();
    assert.equal(header, 'payments');
    for (const [type, label] of [['pos-pay', 'pay'], ['pos-refund', 'refund'], ['pos-terminals', 'terminals'], ['pos-notification-in', 'notification in']]) {
      const node = category.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
      assert.equal(await node.count(), 1, `${type} in the payments category`);
      assert.equal(await node.getAttribute('data-palette-label'), label, `${type} palette label`);
      assert.equal((await node.textContent())!.replace(/\s+/g, ' ').trim(), label, `${type} label as shown`);
    }
    // The config node is not a palette entry.
    assert.equal(await page.locator('.red-ui-palette-node[data-palette-type="pos-paymentsense"]').count(), 0);
  });

  it('shows the example flow with "connected" under the pay node', async () => {
    await page.evaluate((id: string) => {
      const n = RED.nodes.node(id);
      if (RED.workspaces.active() !== n.z) RED.workspaces.show(n.z);
    }, payId);
    const node = page.locator(`g.red-ui-flow-node[id="${payId}"]`);
    await node.waitFor({ state: 'attached' });
    assert.equal((await node.locator('.red-ui-flow-node-label-text').textContent())!.trim(), 'pay');
    await page.waitForFunction((id: string) => {
      const label = document.querySelector(`g.red-ui-flow-node[id="${id}"] .red-ui-flow-node-status-label`);
      return !!label && label.textContent === 'connected';
    }, payId, { timeout: 15000 }).catch(async () => {
      const now = await node.locator('.red-ui-flow-node-status-label').textContent().catch(() => null);
      throw new Error(`the pay node's status is ${JSON.stringify(now)}, not "connected"\n${app.output.slice(-3000)}`);
    });
    // No red triangle: the example's pack nodes pass the editor's own validation.
    const invalid = await page.evaluate(() => {
      const bad: string[] = [];
      RED.nodes.eachNode((n: any) => { if (/^pos-/.test(n.type) && n.valid === false) bad.push(`${n.type} ${n.id}`); });
      RED.nodes.eachConfig((n: any) => { if (/^pos-/.test(n.type) && n.valid === false) bad.push(`${n.type} ${n.id}`); });
      return bad;
    });
    assert.deepEqual(invalid, [], 'invalid pack nodes in the example flows');
    assert.equal(await node.locator('.red-ui-flow-node-error').first().isVisible(), false, 'no error triangle on the pay node');
    // The inject buttons of the example are there to be clicked.
    assert.equal(await page.locator(`g.red-ui-flow-node[id="${injectId}"] .red-ui-flow-node-button-button`).count(), 1);
  });

  it('the pay node\'s edit dialog: provider, its connection row, terminal, currency, timeout; all translated', async () => {
    const node = page.locator(`g.red-ui-flow-node[id="${payId}"] rect.red-ui-flow-node`);
    await node.scrollIntoViewIfNeeded();
    await node.dblclick();
    const opened = await page.locator('#node-input-provider').waitFor({ state: 'visible', timeout: 5000 }).then(() => true, () => false);
    if (!opened) {
      // A double-click lost to a redraw: open it the way the editor does.
      await page.evaluate((id: string) => RED.editor.edit(RED.nodes.node(id)), payId);
      await page.locator('#node-input-provider').waitFor({ state: 'visible' });
    }
    // The tray slides in; let it settle before reading and taking the picture.
    await page.waitForTimeout(600);

    assert.match(await page.locator('.red-ui-tray').last().locator('.red-ui-tray-header').innerText(), /Edit pay node/);
    const options = await page.locator('#node-input-provider option').evaluateAll((os: any[]) => os.map((o) => ({ value: o.value, text: o.textContent })));
    assert.ok(options.some((o) => o.value === 'paymentsense' && /Paymentsense/.test(o.text)), `provider options: ${JSON.stringify(options)}`);
    assert.equal(await page.locator('#node-input-provider').inputValue(), 'paymentsense');
    assert.ok(await visible('#node-input-paymentsense'), 'the Paymentsense connection row is shown');
    assert.equal(await page.locator('#node-input-paymentsense').inputValue(), configId, 'the connection select holds the config node');
    for (const id of ['terminalId', 'currency', 'timeout', 'name']) {
      assert.ok(await visible(`#node-input-${id}`), `${id} field visible`);
    }
    assert.equal(await page.locator('#node-input-terminalId').inputValue(), 'VCM00001SIP0');
    assert.equal(await page.locator('#node-input-currency').inputValue(), 'GBP');
    assert.equal(await page.locator('#node-input-timeout').inputValue(), '180');
    const labels = await page.locator('#dialog-form label').allInnerTexts();
    for (const l of ['Provider', 'Connection', 'Terminal', 'Currency', 'Timeout', 'Name']) {
      assert.ok(labels.some((t) => t.trim() === l), `label ${l} in ${JSON.stringify(labels)}`);
    }
    assert.equal(await page.locator('#node-input-terminalId').getAttribute('placeholder'), 'terminal id, e.g. VCM00001SIP0');
    assert.match(await page.locator('#dialog-form .form-tips').innerText(), /minor units/);
    assertTranslated(await trayTexts(), 'the pay dialog');
    // No red "invalid" marks on a correctly configured node.
    assert.deepEqual(await page.locator('#dialog-form .input-error').evaluateAll((es: any[]) => es.map((e) => e.id)), []);
    await page.locator('.red-ui-tray').last().screenshot({ path: SHOTS.pay });
  });

  it('the Paymentsense config dialog shows the fields the chosen environment needs', async () => {
    // From the open pay dialog: the pencil next to the connection.
    await page.locator('#node-input-btn-paymentsense-edit, #node-input-lookup-paymentsense').first().click();
    const env = page.locator('#node-config-input-environment');
    await env.waitFor({ state: 'visible' });
    await page.waitForTimeout(600);
    assert.match(await page.locator('.red-ui-tray').last().locator('.red-ui-tray-header').innerText(), /Paymentsense/i);
    assert.equal(await env.inputValue(), 'simulator');
    const envLabels = await env.locator('option').allTextContents();
    assert.equal(envLabels.length, 4, JSON.stringify(envLabels));
    assert.ok(envLabels.every((t) => t.trim() !== '' && !RAW_KEY.test(t)), `environment options ${JSON.stringify(envLabels)}`);

    const shown = async () => ({
      url: await visible('#node-config-input-url'),
      account: await visible('#node-config-input-account'),
      token: await visible('#node-config-input-token'),
      softwareHouseId: await visible('#node-config-input-softwareHouseId'),
      installerId: await visible('#node-config-input-installerId'),
      verifyTls: await visible('#node-config-input-verifyTls'),
    });
    assert.deepEqual(await shown(), { url: false, account: false, token: false, softwareHouseId: false, installerId: false, verifyTls: false }, 'simulator: nothing to fill in');
    assert.match(await page.locator('.pos-ps-simulator .form-tips').innerText(), /simulator/i);
    assertTranslated(await trayTexts(), 'the config dialog (simulator)');
    await page.locator('.red-ui-tray').last().screenshot({ path: SHOTS.config });

    await env.selectOption('custom');
    assert.deepEqual(await shown(), { url: true, account: false, token: true, softwareHouseId: true, installerId: true, verifyTls: true }, 'custom: a base URL and the credentials');

    await env.selectOption('test');
    assert.deepEqual(await shown(), { url: false, account: true, token: true, softwareHouseId: true, installerId: true, verifyTls: true }, 'test: the account and the credentials');
    await page.locator('#node-config-input-account').fill('mysite');
    await page.locator('#node-config-input-account').dispatchEvent('change');
    assert.equal((await page.locator('#pos-ps-host').innerText()).trim(), 'mysite.test.connect.paymentsense.cloud');
    assertTranslated(await trayTexts(), 'the config dialog (test)');
    await page.locator('.red-ui-tray').last().screenshot({ path: SHOTS.config.replace('.png', '-test.png') });

    // Leave both dialogs without changing anything.
    await page.locator('#node-config-dialog-cancel').click();
    await page.locator('#node-config-input-environment').waitFor({ state: 'detached' });
    await page.locator('#node-dialog-cancel').click();
    await page.locator('#node-input-provider').waitFor({ state: 'detached' });
    const after = await page.evaluate((id: string) => RED.nodes.node(id).environment, configId);
    assert.equal(after, 'simulator', 'cancelling kept the config node as it was');
  });

  it('the help for pay has Inputs, Outputs, Details and References', async () => {
    await page.evaluate(() => RED.sidebar.help.show('pos-pay'));
    const help = page.locator('.red-ui-sidebar-help-stack');
    await page.waitForFunction(() => Array.from(document.querySelectorAll('.red-ui-sidebar-help-stack h3')).some((h: any) => h.offsetParent !== null && /Inputs/.test(h.textContent)), null, { timeout: 10000 });
    // The help panel's title is the node's palette label.
    assert.match(await help.innerText(), /^\s*pay\s*$/m);
    const headings = (await help.locator('h3').allInnerTexts()).map((t) => t.trim());
    for (const h of ['Inputs', 'Outputs', 'Details', 'References']) assert.ok(headings.includes(h), `help heading ${h} in ${JSON.stringify(headings)}`);
    assert.ok(headings.indexOf('Inputs') < headings.indexOf('Outputs') && headings.indexOf('Outputs') < headings.indexOf('Details') && headings.indexOf('Details') < headings.indexOf('References'), `help headings in Node-RED's order: ${JSON.stringify(headings)}`);
    const text = await help.innerText();
    assert.match(text, /minor units/);
    assert.doesNotMatch(text, RAW_KEY);
  });

  it('clicking the approved-payment inject button shows an approved result in the Debug sidebar', async () => {
    await page.evaluate(() => { RED.sidebar.show('debug'); });
    await page.evaluate(() => RED.actions.invoke('core:clear-debug-messages'));
    const button = page.locator(`g.red-ui-flow-node[id="${injectId}"] .red-ui-flow-node-button-button`);
    await button.scrollIntoViewIfNeeded();
    await button.click();
    // The result debug node (on the pay node's output 1) logs the whole msg: its topic is the
    // outcome. Progress events named "approved" come first on output 2, so look for the result.
    const resultDebug = flows.find((n) => n.type === 'debug' && (flows.find((p) => p.id === payId)!.wires ?? [])[0]?.includes(n.id));
    assert.ok(resultDebug, 'a debug node on the pay node\'s result output');
    const resultName = String(resultDebug.name || 'debug');
    const approved = page.locator('.red-ui-debug-msg')
      .filter({ has: page.locator('.red-ui-debug-msg-name', { hasText: new RegExp(`: ${resultName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) })
      .filter({ has: page.locator('.red-ui-debug-msg-topic', { hasText: /^approved : msg\b/ }) });
    await approved.first().waitFor({ state: 'visible', timeout: 20000 }).catch(async () => {
      const msgs = await page.locator('.red-ui-debug-msg').allInnerTexts();
      throw new Error(`no approved result from the "${resultName}" debug node in the Debug sidebar; it shows ${JSON.stringify(msgs)}\n${app.output.slice(-3000)}`);
    });
    assert.equal(await approved.count(), 1, 'exactly one result for one click');
    // Open msg, then msg.payload, the way a person would, and read the outcome.
    const result = approved.first();
    await result.locator('.red-ui-debug-msg-row').first().click();
    // (The top row's summary also names `payload`; the payload row has the key as its own child.)
    const payloadRow = result.locator('.red-ui-debug-msg-row', { has: page.locator(':scope > .red-ui-debug-msg-object-key', { hasText: /^payload$/ }) });
    await payloadRow.first().click();
    await result.locator('.red-ui-debug-msg-object-key', { hasText: /^outcome$/ }).first().waitFor({ state: 'visible', timeout: 5000 });
    const shown = await result.innerText();
    assert.match(shown, /outcome:\s*"approved"/, shown);
    assert.match(shown, /approved:\s*true/, shown);
    await page.locator('#red-ui-sidebar').screenshot({ path: SHOTS.debug });
    assert.ok(!/simulator-token/.test(await page.locator('#red-ui-sidebar-content').innerText()), 'no token in the Debug sidebar');
    // The status under the pay node follows the payment.
    await page.waitForFunction((id: string) => /approved/.test(document.querySelector(`g.red-ui-flow-node[id="${id}"] .red-ui-flow-node-status-label`)?.textContent ?? ''), payId, { timeout: 10000 });
  });

  it('raised no page errors and no console errors from the pack', () => {
    assert.deepEqual(pageErrors, [], 'uncaught errors in the editor');
    assert.deepEqual(ourConsoleErrors, [], 'console errors from the pack\'s editor files');
  });
});
