// A test that needs a program the machine may lack (a browser, a database server). In CI
// (CI set) a missing tool fails the test loudly: a check that cannot run must never look green.
// Elsewhere the tests are marked pending with the reason and the command that installs the
// tool, so `npm test` on a contributor's machine still says what it did not check.

import type { Context } from 'mocha';

export interface Tool {
  /** What the tests need, as a person would name it: "Chromium". */
  name: string;
  /** Where it was looked for, or undefined when it was found (then nothing happens). */
  missing: string | undefined;
  /** The command that installs it, e.g. `apt-get install chromium`. */
  install: string;
}

/** Reasons already printed, so a suite with many hooks says each one once. */
const said = new Set<string>();

export function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/**
 * Call from a `before` hook (with mocha's `this`). Returns when the tool is there; otherwise
 * throws in CI, or marks every test of the suite pending and explains why on the console.
 */
export function needsTool(ctx: Context, tool: Tool): void {
  if (tool.missing === undefined) return;
  const reason = `${tool.name} not found (${tool.missing}); install it with: ${tool.install}`;
  if (inCi()) throw new Error(`${reason}. CI must run every test: .ci/run installs it.`);
  if (!said.has(reason)) {
    said.add(reason);
    console.log(`      skipped, ${reason}`);
  }
  ctx.skip();
}
