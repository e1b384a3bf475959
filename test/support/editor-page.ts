// The Node-RED editor in Debian's Chromium, as every browser test opens it: headless, a fixed
// viewport, page errors recorded, and kept on loopback (the editor asks the internet for the
// Flow Library catalogue).

import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { needsTool } from './needs-tool';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Pending with the install command outside CI, a loud failure in CI, when Chromium is missing. */
export function needsChromium(ctx: Mocha.Context): void {
  needsTool(ctx, {
    name: 'Chromium',
    missing: fs.existsSync(CHROMIUM) ? undefined : `no executable at ${CHROMIUM}; CHROMIUM_PATH names another`,
    install: 'apt-get install chromium',
  });
}

/**
 * Opens `url` in a fresh headless Chromium. `onPageError` gets every uncaught page error;
 * `prepare` runs before the page loads (to listen to the console, say).
 */
export async function openEditorPage(url: string, onPageError: (err: Error) => void, prepare?: (page: Page) => void): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, locale: 'en-US' });
  page.setDefaultTimeout(15000);
  page.on('pageerror', onPageError);
  prepare?.(page);
  await page.route((u) => !/^(127\.0\.0\.1|localhost)$/.test(u.hostname) && u.protocol !== 'data:', (route) => route.abort());
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 30000 });
  return { browser, page };
}
