// The Test connection button in a real editor (headless Chromium, `npm start` with the
// examples): it checks the dialog's values as they are, lists each step translated, and a
// dialog with missing fields is told which. One Node-RED and one browser for the file.

import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { needsChromium, openEditorPage } from '../support/editor-page';
import { QuickStart } from '../support/quick-start';

declare const RED: any;
declare const window: any;


describe('editor: Test connection (headless Chromium)', function () {
  this.timeout(120000);
  const app = new QuickStart();
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  let configId = '';

  before(async function () {
    needsChromium(this);
    await app.start();
    const flows = (await (await app.api('/flows')).json()) as Array<{ id: string; type: string; environment?: string }>;
    const cfg = flows.find((n) => n.type === 'pos-paymentsense' && n.environment === 'simulator');
    assert.ok(cfg, 'the examples have a simulator Paymentsense connection');
    configId = cfg.id;
    ({ browser, page } = await openEditorPage(`http://127.0.0.1:${app.port}/`, (err) => { pageErrors.push(err.message); }));
    await page.waitForFunction(() => !!(window.RED && RED.nodes && RED.nodes.node && RED.nodes.filterNodes({ type: 'pos-pay' }).length > 0), null, { timeout: 30000 });
    if (await page.evaluate(() => RED.settings.telemetryEnabled === undefined)) {
      const noThanks = page.getByRole('button', { name: 'No, do not enable notifications' });
      await noThanks.waitFor({ state: 'visible', timeout: 10000 }).then(() => noThanks.click(), () => undefined);
    }
  });

  after(async function () {
    this.timeout(30000);
    if (browser) await browser.close().catch(() => undefined);
    await app.dispose();
  });

  it('lists each step of the simulator check, then names the missing fields of an unsaved change', async () => {
    await page.evaluate((id: string) => RED.editor.editConfig('', 'pos-paymentsense', id), configId);
    const button = page.locator('#node-config-dialog-edit-form .pos-check-button');
    await button.waitFor({ state: 'visible' });
    assert.match(await button.innerText(), /Test connection/);
    assert.equal(await page.locator('#node-config-input-transactionLookup').isChecked(), true, 'a flow saved before the option means on');
    assert.equal(await page.locator('#node-config-input-wireLog').isChecked(), false);
    const result = page.locator('#node-config-dialog-edit-form .pos-check-result');
    await button.click();
    await result.getByText('every step held').waitFor();
    const lines = await result.locator('li').allInnerTexts();
    for (const label of ['address reached:', 'TLS:', 'handshake:', 'authenticated:', 'terminals listed:']) {
      assert.ok(lines.some((l) => l.includes(label)), `${label} in ${JSON.stringify(lines)}`);
    }
    assert.ok(lines.every((l) => !/pos\.check\./.test(l)), `translated: ${JSON.stringify(lines)}`);
    await page.locator('.red-ui-tray').last().screenshot({ path: '/tmp/pos-check-dialog.png' });

    // Not saved: the check takes the dialog as it is now.
    await page.locator('#node-config-input-environment').selectOption('test');
    await button.click();
    await result.getByText('a step failed', { exact: false }).waitFor();
    const failed = await result.locator('li').allInnerTexts();
    assert.ok(failed.some((l) => /settings: missing: account, softwareHouseId, installerId, token/.test(l)), JSON.stringify(failed));
    await page.locator('#node-config-dialog-cancel').click();
    assert.deepEqual(pageErrors, []);
  });
});
