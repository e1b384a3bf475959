// The demo as a person reads it (issue 13): `npm start` in headless Chromium, measured rather
// than looked at. Every tab label fits in the tab bar; on every tab, a status of the longest
// length the pack shows stays clear of the neighbouring nodes; every edit dialog of the pack,
// in every environment, shows its selects, inputs and placeholders whole, its info boxes as
// wide as its rows, and no untranslated catalog key; the example connections carry a value for
// every field their dialog shows. Screenshots go to /tmp/pos-demo-*.png and are read back
// (a PNG of the tray's size), for a person to look at too.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { MAX_TEXT } from '../../nodes/shared/status';
import { needsChromium, openEditorPage } from '../support/editor-page';
import { QuickStart } from '../support/quick-start';

declare const RED: any;
declare const document: any;
declare const window: any;

/** An untranslated catalog key as a person would see it: `pos-dojo.label.name`, `pos.status.connected`. */
const RAW_KEY = /^pos\.[a-zA-Z]+\.|\bpos-[a-z-]+\.[a-zA-Z]+\.[a-zA-Z]/;
/** A status of the longest length the pack shows (status.ts cuts at MAX_TEXT), in ordinary words. */
const LONGEST_STATUS = 'reconnecting (attempt 12, in 30 s): check the API token'.slice(0, MAX_TEXT);
/** The debug node cuts its status at 32 characters and adds "...". */
const LONGEST_DEBUG_STATUS = `${'table T14: recorded 8.68 + 8.67 and more'.slice(0, 32)}...`;

interface FlowNode { id: string; type: string; z?: string; name?: string; label?: string; [k: string]: unknown }

/** What measure() reports for one open dialog: each a readable line naming the element. */
interface Problems { cut: string[]; narrowTips: string[]; rawKeys: string[] }

/** PNG width and height from its IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const b = fs.readFileSync(file);
  assert.equal(b.subarray(1, 4).toString('latin1'), 'PNG', `${file} is a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

describe('demo: tabs, statuses and dialogs fit (headless Chromium)', function () {
  this.timeout(180000);
  const app = new QuickStart();
  let browser: Browser | undefined;
  let page: Page;
  let flows: FlowNode[] = [];
  const pageErrors: string[] = [];

  before(async function () {
    needsChromium(this);
    await app.start();
    flows = (await (await app.api('/flows')).json()) as FlowNode[];
    ({ browser, page } = await openEditorPage(`http://127.0.0.1:${app.port}/`, (err) => { pageErrors.push(`${err.name}: ${err.message}`); }));
    await page.waitForFunction(() => !!(window.RED && RED.nodes && RED.nodes.filterNodes({ type: 'pos-pay' }).length > 0
      && document.querySelector('.red-ui-palette-node[data-palette-type="pos-pay"]')), null, { timeout: 30000 });
  });

  /** Closes the dialog a test opened, even when the test failed (set by the test). */
  let closeAfter: (() => Promise<void>) | undefined;
  afterEach(async () => {
    const close = closeAfter;
    closeAfter = undefined;
    if (close) await close().catch(() => undefined);
  });

  after(async function () {
    this.timeout(30000);
    if (browser) await browser.close().catch(() => undefined);
    browser = undefined;
    await app.dispose();
  });

  /** Shows a tab the way the editor does and waits until its nodes are drawn. */
  async function showTab(tabId: string): Promise<void> {
    await page.evaluate((z: string) => RED.workspaces.show(z), tabId);
    await page.waitForFunction((z: string) => RED.workspaces.active() === z
      && RED.nodes.filterNodes({ z }).every((n: any) => !!document.querySelector(`g.red-ui-flow-node[id="${n.id}"]`)), tabId, { timeout: 10000 });
  }

  /**
   * Measures the top tray: text cut off in selects (the chosen option), inputs (the value or the
   * placeholder) and labels; info boxes narrower than the rows they sit among; catalog keys.
   * Widths are measured with the element's own font, so it holds for any theme.
   */
  async function measure(): Promise<Problems> {
    return page.evaluate((raw: string) => {
      const trays = document.querySelectorAll('.red-ui-tray');
      const tray = trays[trays.length - 1];
      const form = tray.querySelector('form.dialog-form, #dialog-form, #node-config-dialog-edit-form') ?? tray;
      const canvas = document.createElement('canvas').getContext('2d');
      const shown = (el: any) => el.offsetParent !== null && el.getBoundingClientRect().width > 0;
      const textWidth = (el: any, text: string) => {
        const cs = window.getComputedStyle(el);
        canvas.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
        return canvas.measureText(text).width;
      };
      const inner = (el: any) => {
        const cs = window.getComputedStyle(el);
        return el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
      };
      const name = (el: any) => `#${el.id || el.className || el.tagName}`;
      const cut: string[] = [];
      for (const el of form.querySelectorAll('select')) {
        if (!shown(el)) continue;
        // The arrow takes about 20 px of a select's inner width.
        for (const o of el.options) {
          const need = textWidth(el, o.textContent.trim());
          if (need > inner(el) - 20) cut.push(`${name(el)} option "${o.textContent.trim()}" needs ${Math.ceil(need)} px, has ${inner(el) - 20}`);
        }
      }
      for (const el of form.querySelectorAll('input[type="text"], input[type="password"], input:not([type]), textarea')) {
        if (!shown(el)) continue;
        const ph = el.getAttribute('placeholder');
        if (ph && textWidth(el, ph) > inner(el)) cut.push(`${name(el)} placeholder "${ph}" needs ${Math.ceil(textWidth(el, ph))} px, has ${inner(el)}`);
        if (el.type !== 'password' && el.scrollWidth > el.clientWidth + 1) cut.push(`${name(el)} value "${el.value}" overflows`);
      }
      for (const el of form.querySelectorAll('.form-row > label')) {
        if (shown(el) && el.scrollWidth > el.clientWidth + 1) cut.push(`label "${el.textContent.trim()}" is cut (${el.scrollWidth} > ${el.clientWidth})`);
      }
      // Info boxes: as wide as the widest field of the rows around them.
      const fields = [...form.querySelectorAll('.form-row')].filter(shown)
        .flatMap((row: any) => [...row.querySelectorAll('input[type="text"], input[type="password"], select, .red-ui-typedInput-container')].filter(shown));
      const rowRight = Math.max(...fields.map((el: any) => el.getBoundingClientRect().right));
      // Named in a failure: the field that reaches furthest right.
      const widest: any = fields.find((el: any) => el.getBoundingClientRect().right === rowRight);
      const widestName = widest ? (widest.id || widest.className || widest.tagName) : '';
      const formLeft = Math.min(...[...form.querySelectorAll('.form-row > label')].filter(shown).map((el: any) => el.getBoundingClientRect().left));
      const narrowTips: string[] = [];
      for (const tip of form.querySelectorAll('.form-tips')) {
        if (!shown(tip)) continue;
        const r = tip.getBoundingClientRect();
        if (r.right < rowRight - 2 || r.left > formLeft + 2) {
          narrowTips.push(`"${tip.textContent.trim().slice(0, 40)}…" spans ${Math.round(r.left)}-${Math.round(r.right)}, the rows ${Math.round(formLeft)}-${Math.round(rowRight)} (${widestName})`);
        }
      }
      const rawKeys: string[] = [];
      const key = new RegExp(raw);
      const walker = document.createTreeWalker(tray, 4);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const t = String(n.textContent).trim();
        if (t && key.test(t) && !n.parentElement.closest('script, style, code, .red-ui-editor-text-container, .monaco-editor')) rawKeys.push(t);
      }
      for (const el of tray.querySelectorAll('[placeholder], [title], option')) {
        for (const t of [el.getAttribute('placeholder'), el.getAttribute('title'), el.tagName === 'OPTION' ? el.textContent.trim() : null]) {
          if (t && key.test(t)) rawKeys.push(t);
        }
      }
      return { cut, narrowTips, rawKeys };
    }, RAW_KEY.source);
  }

  /** Screenshots the top tray and reads the picture back: a PNG as wide as the tray. */
  async function shoot(file: string): Promise<void> {
    const tray = page.locator('.red-ui-tray').last();
    const box = (await tray.boundingBox())!;
    await tray.screenshot({ path: file });
    const { width, height } = pngSize(file);
    assert.ok(Math.abs(width - Math.round(box.width)) <= 2 && height > 100, `${file}: ${width}x${height} for a tray of ${Math.round(box.width)} px`);
  }

  it('every tab label fits in its tab, and the labels differ', async () => {
    const tabs = flows.filter((n) => n.type === 'tab');
    assert.equal(tabs.length, 13, 'one tab per example');
    // Each tab in turn is the active one (it shows more icons), as a person clicks through them.
    const labels: Array<{ text: string; cut: boolean; room: number }> = [];
    for (const tab of tabs) {
      await showTab(tab.id);
      labels.push(await page.evaluate((id: string) => {
        const li = document.querySelector(`#red-ui-tab-${id.replace('.', '-')}`);
        const span = li.querySelector('.red-ui-tab-label .red-ui-text-bidi-aware');
        // Text under the fade at the tab's end, under its badges, or past its edge cannot be read.
        let right = li.getBoundingClientRect().right;
        for (const cover of li.querySelectorAll('.red-ui-tabs-fade, .red-ui-tabs-badges > *, .red-ui-tab-close')) {
          const r = cover.getBoundingClientRect();
          if (r.width > 0 && window.getComputedStyle(cover).display !== 'none' && window.getComputedStyle(cover).visibility !== 'hidden') right = Math.min(right, r.left);
        }
        const r = span.getBoundingClientRect();
        return { text: String(span.textContent).trim(), cut: r.right > right + 0.5 || span.scrollWidth > span.clientWidth + 1, room: Math.round(right - r.left) };
      }, tab.id));
    }
    assert.deepEqual(labels.filter((l) => l.cut).map((l) => `${l.text} (${l.room} px to show it)`), [], 'tab labels cut off');
    assert.equal(new Set(labels.map((l) => l.text)).size, labels.length, JSON.stringify(labels.map((l) => l.text)));
    assert.ok(labels.every((l) => l.text !== '' && !/^POS:/.test(l.text)), JSON.stringify(labels.map((l) => l.text)));
    // The tab bar as it shows (the list itself is wider than the window and scrolls).
    const bar = (await page.locator('#red-ui-workspace').boundingBox())!;
    await page.screenshot({ path: '/tmp/pos-demo-tabs.png', clip: { x: bar.x, y: bar.y, width: bar.width, height: 40 } });
    assert.equal(pngSize('/tmp/pos-demo-tabs.png').width, Math.round(bar.width));
  });

  it('on every tab, nodes do not lie on each other and the longest status under a node stays clear of the other nodes', async () => {
    const overlaps: string[] = [];
    for (const tab of flows.filter((n) => n.type === 'tab')) {
      await showTab(tab.id);
      const found: string[] = await page.evaluate(([z, longest, longestDebug]: string[]) => {
        const canvas = document.createElement('canvas').getContext('2d');
        const boxes = RED.nodes.filterNodes({ z }).map((n: any) => {
          const rect = document.querySelector(`g.red-ui-flow-node[id="${n.id}"] rect.red-ui-flow-node`);
          return { n, r: rect.getBoundingClientRect() };
        });
        const out: string[] = [];
        for (const a of boxes) {
          for (const b of boxes) {
            if (a.n.id >= b.n.id) continue;
            if (a.r.left < b.r.right && a.r.right > b.r.left && a.r.top < b.r.bottom && a.r.bottom > b.r.top) out.push(`${a.n.type} "${a.n.name || a.n.id}" lies on ${b.n.type} "${b.n.name || b.n.id}"`);
          }
        }
        for (const { n, r } of boxes) {
          // Nodes that show a status: the pack's, debug nodes showing one, function nodes.
          const text = /^pos-/.test(n.type) ? longest : n.type === 'debug' && n.tostatus ? longestDebug : n.type === 'function' ? longestDebug : '';
          if (!text) continue;
          const label = document.querySelector(`g.red-ui-flow-node[id="${n.id}"] .red-ui-flow-node-status-label`);
          const cs = window.getComputedStyle(label);
          canvas.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
          // The label starts 20 px right of the node's left edge (after the dot), 3 px below it.
          const s = { left: r.left + 20, right: r.left + 20 + canvas.measureText(text).width, top: r.bottom + 3, bottom: r.bottom + 3 + parseFloat(cs.fontSize) * 1.3 };
          for (const o of boxes) {
            if (o.n.id === n.id) continue;
            const hit = s.left < o.r.right && s.right > o.r.left && s.top < o.r.bottom && s.bottom > o.r.top;
            if (hit) out.push(`${n.type} "${n.name || n.id}" → ${o.n.type} "${o.n.name || o.n.id}"`);
          }
        }
        return out;
      }, [tab.id, LONGEST_STATUS, LONGEST_DEBUG_STATUS]);
      overlaps.push(...found.map((f) => `${tab.label}: ${f}`));
      await page.locator('#red-ui-workspace-chart').screenshot({ path: `/tmp/pos-demo-tab-${String(tab.label).split(' ')[0]}.png` });
    }
    assert.deepEqual(overlaps, [], 'a status this long would run into another node');
  });

  it('the example connections have a value for every field their dialog shows', async () => {
    const missing = await page.evaluate(() => {
      const out: string[] = [];
      RED.nodes.eachConfig((n: any) => {
        if (!/^pos-/.test(n.type)) return;
        for (const key of Object.keys(RED.nodes.getType(n.type).defaults)) {
          if (n[key] === undefined) out.push(`${n.type} "${n.name}": ${key}`);
        }
      });
      return out;
    });
    assert.deepEqual(missing, [], 'properties missing from the example connections (their field shows empty)');
  });

  // Every config node type of the pack, one example connection each; every environment.
  const CONFIG_TYPES = ['pos-paymentsense', 'pos-dojo', 'pos-modulus', 'pos-quickpay', 'pos-sensepass', 'pos-journal'];
  for (const type of CONFIG_TYPES) {
    it(`the ${type} dialog, in every environment: nothing cut, info boxes as wide as the rows, no catalog keys`, async () => {
      const id = await page.evaluate((t: string) => {
        let found = '';
        RED.nodes.eachConfig((n: any) => { if (!found && n.type === t) found = n.id; });
        return found;
      }, type);
      assert.ok(id, `an example has a ${type} node`);
      await page.evaluate(([t, i]: string[]) => RED.editor.editConfig('', t, i), [type, id]);
      const first = type === 'pos-journal' ? '#node-config-input-store' : '#node-config-input-environment';
      // Whatever the verdict, the dialog is closed unchanged for the next test.
      closeAfter = async () => {
        await page.locator('#node-config-dialog-cancel').click();
        await page.locator(first).waitFor({ state: 'detached' });
      };
      await page.locator(first).waitFor({ state: 'visible' });
      await page.waitForTimeout(600);
      const problems: string[] = [];
      const choices = await page.locator(`${first} option`).evaluateAll((os: any[]) => os.map((o) => o.value));
      const before = await page.locator(first).inputValue();
      for (const choice of choices) {
        await page.locator(first).selectOption(choice);
        await page.waitForTimeout(100);
        const found = await measure();
        problems.push(...found.cut.map((p) => `${choice}: ${p}`), ...found.narrowTips.map((p) => `${choice}: info box ${p}`), ...found.rawKeys.map((p) => `${choice}: catalog key "${p}"`));
        await shoot(`/tmp/pos-demo-${type}-${choice}.png`);
      }
      if (type === 'pos-dojo') {
        await page.locator(first).selectOption('simulator');
        assert.equal(await page.locator('#node-config-input-pollInterval').inputValue(), '1', 'the poll interval shows its default');
        assert.equal(await page.locator('#node-config-input-heartbeat').inputValue(), '25');
      }
      if (type === 'pos-sensepass') {
        await page.locator(first).selectOption('simulator');
        for (const f of ['clientVersion', 'transports']) assert.equal(await page.locator(`#node-config-input-${f}`).isVisible(), false, `${f} is hidden for the simulator`);
        await page.locator(first).selectOption('test');
        for (const f of ['clientVersion', 'transports']) assert.equal(await page.locator(`#node-config-input-${f}`).isVisible(), true, `${f} is offered for a real server`);
      }
      await page.locator(first).selectOption(before);
      assert.deepEqual(problems, [], `the ${type} dialog`);
    });
  }

  // Every flow node type, on the node an example uses (the first one found).
  const FLOW_TYPES = ['pos-pay', 'pos-refund', 'pos-terminals', 'pos-notification-in', 'pos-request-in', 'pos-response', 'pos-report'];
  for (const type of FLOW_TYPES) {
    it(`the ${type} dialog, for every provider it offers: nothing cut, info boxes as wide as the rows, no catalog keys`, async () => {
      const node = flows.find((n) => n.type === type);
      assert.ok(node, `an example has a ${type} node`);
      await showTab(String(node.z));
      await page.evaluate((i: string) => RED.editor.edit(RED.nodes.node(i)), node.id);
      closeAfter = async () => {
        await page.locator('#node-dialog-cancel').click();
        await page.locator('#node-input-name').waitFor({ state: 'detached' });
      };
      await page.locator('#node-input-name').waitFor({ state: 'visible' });
      await page.waitForTimeout(600);
      const problems: string[] = [];
      // The response node has no provider to choose: it answers whatever request it is given.
      const select = page.locator('#node-input-provider');
      const providers = await select.count() ? await select.locator('option').evaluateAll((os: any[]) => os.map((o) => o.value)) : [''];
      const before = providers[0] ? await select.inputValue() : '';
      for (const p of providers) {
        if (p) await select.selectOption(p);
        await page.waitForTimeout(100);
        const found = await measure();
        problems.push(...found.cut.map((x) => `${p}: ${x}`), ...found.narrowTips.map((x) => `${p}: info box ${x}`), ...found.rawKeys.map((x) => `${p}: catalog key "${x}"`));
      }
      if (before) await select.selectOption(before);
      await shoot(`/tmp/pos-demo-${type}.png`);
      assert.deepEqual(problems, [], `the ${type} dialog`);
    });
  }

  it('a refused message: the pay node says why in a few red words, the Debug sidebar shows the sentence at once; the next payment takes the status over', async () => {
    const pay = flows.find((n) => n.type === 'pos-pay' && n.provider === 'paymentsense' && flows.some((i) => i.type === 'inject' && i.name === 'cancel the last payment' && (i.wires as string[][]).flat().includes(n.id)))!;
    assert.ok(pay, 'the first example\'s pay node, with its "cancel the last payment" button');
    const inject = (name: string) => flows.find((i) => i.type === 'inject' && i.name === name && (i.wires as string[][]).flat().includes(pay.id))!.id;
    const errorDebug = flows.find((n) => n.type === 'debug' && n.z === pay.z && n.name === 'error')!;
    await showTab(String(pay.z));
    await page.evaluate(() => { RED.sidebar.show('debug'); RED.actions.invoke('core:clear-debug-messages'); });
    const statusText = async () => String(await page.locator(`g.red-ui-flow-node[id="${pay.id}"] .red-ui-flow-node-status-label`).textContent());
    await page.waitForFunction((id: string) => /^connected$/.test(document.querySelector(`g.red-ui-flow-node[id="${id}"] .red-ui-flow-node-status-label`)?.textContent ?? ''), pay.id, { timeout: 20000 });

    // Nothing has been paid yet, so there is no payment to cancel: the cancel is refused.
    await page.locator(`g.red-ui-flow-node[id="${inject('cancel the last payment')}"] .red-ui-flow-node-button-button`).click();
    const shown = page.locator(`.red-ui-debug-msg.red-ui-debug-msg-node-${errorDebug.id.replace(/\./g, '_')}`);
    await shown.first().waitFor({ state: 'visible', timeout: 10000 });
    const topic = (await shown.first().locator('.red-ui-debug-msg-topic').innerText()).trim();
    const sentence = (await shown.first().locator('.red-ui-debug-msg-payload').innerText()).trim();
    assert.match(topic, /^bad_input : msg\.payload : string\[\d+\]$/, 'the code as the topic, the sentence as a string');
    assert.match(sentence, /^"msg\.payload\.reference must name the payment this action is for"$/, `read at once, no click to open an object: ${sentence}`);
    // Node-RED's own line for the error says it plainly too.
    const all = await page.locator('#red-ui-sidebar-content .red-ui-debug-msg').allInnerTexts();
    assert.ok(all.every((t) => !/PosError/.test(t)), JSON.stringify(all));
    await page.waitForFunction((id: string) => /^bad input: nothing sent$/.test(document.querySelector(`g.red-ui-flow-node[id="${id}"] .red-ui-flow-node-status-label`)?.textContent ?? ''), pay.id, { timeout: 5000 });
    const fill = await page.locator(`g.red-ui-flow-node[id="${pay.id}"] .red-ui-flow-node-status`).getAttribute('class');
    assert.match(String(fill), /\bred-ui-flow-node-status-ring-red\b/, `a red ring: ${fill}`);
    await page.locator('#red-ui-sidebar').screenshot({ path: '/tmp/pos-demo-error-sidebar.png' });
    assert.ok(pngSize('/tmp/pos-demo-error-sidebar.png').height > 200);

    // The next payment replaces the error with its own status.
    await page.locator(`g.red-ui-flow-node[id="${inject('approved: 12.50 GBP')}"] .red-ui-flow-node-button-button`).click();
    await page.waitForFunction((id: string) => /^approved 12\.50 GBP$/.test(document.querySelector(`g.red-ui-flow-node[id="${id}"] .red-ui-flow-node-status-label`)?.textContent ?? ''), pay.id, { timeout: 20000 })
      .catch(async () => { throw new Error(`the pay node still shows "${await statusText()}"`); });
  });

  it('raised no page errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
