// What every conformance test shares: one flow with every flow node wired to helper nodes,
// loaded against the entry's simulator, plus the checks of the documented message shapes.
// Test bodies take everything provider-specific from the entry.

import assert from 'node:assert/strict';
import { collect, errors, helper, statuses, until, type Msg } from '../nodes/harness';
import type { Capability } from '../../lib/core/provider';
import { MATRIX, amounts, type ConformanceEntry, type SimulatorHandle } from './matrix';

export { helper, until, type Msg };

type Status = { fill?: string; shape?: string; text?: string };

/** The flow nodes of the suite, and the helper node each one's outputs go to. */
export const NODE_IDS = ['pay', 'refund', 'terminals', 'events'] as const;

export interface Loaded {
  results: Msg[];
  progress: Msg[];
  refunded: Msg[];
  refundProgress: Msg[];
  list: Msg[];
  events: Msg[];
  errs: Record<(typeof NODE_IDS)[number], string[]>;
  status: Record<(typeof NODE_IDS)[number], Status[]>;
}

export class Conformance {
  handle!: SimulatorHandle;
  readonly amounts: ReturnType<typeof amounts>;

  constructor(readonly entry: ConformanceEntry) {
    this.amounts = amounts(entry);
  }

  /** A reference unique to this provider and test. */
  ref(name: string): string {
    return `${this.entry.provider}-${name}`;
  }

  flow(): Array<Record<string, unknown>> {
    const { entry, handle } = this;
    const at = (y: number) => ({ z: 'tab', x: 100, y });
    const uses = { provider: entry.provider, [entry.provider]: 'cfg' };
    const payment = { ...uses, terminalId: entry.terminalId ?? '', currency: entry.currency, timeout: 20 };
    return [
      { id: 'tab', type: 'tab', label: 'conformance' },
      handle.config('cfg'),
      { id: 'pay', type: 'pos-pay', ...at(100), ...payment, wires: [['result'], ['progress']] },
      { id: 'refund', type: 'pos-refund', ...at(140), ...payment, wires: [['refunded'], ['refund-progress']] },
      { id: 'terminals', type: 'pos-terminals', ...at(180), ...uses, timeout: 10, wires: [['list']] },
      { id: 'events', type: 'pos-notification-in', ...at(220), ...uses, events: '', ...(entry.notificationNode ?? {}), wires: [['event']] },
      ...['result', 'progress', 'refunded', 'refund-progress', 'list', 'event'].map((id, i) => ({ id, type: 'helper', ...at(260 + 40 * i) })),
    ];
  }

  connectionState(): string | undefined {
    return helper.getNode('cfg')?.connection?.provider.state.name;
  }

  /** Loads the flow, waits for the connection (and whatever else the simulator needs), collects everything. */
  async load(): Promise<Loaded> {
    await helper.load(this.entry.nodeModules, this.flow(), this.handle.credentials('cfg'));
    await until(() => this.connectionState() === 'connected', `the ${this.entry.provider} connection`, 10000);
    await this.handle.ready?.();
    const per = <T>(f: (id: string) => T) => Object.fromEntries(NODE_IDS.map((id) => [id, f(id)])) as Record<(typeof NODE_IDS)[number], T>;
    return {
      results: collect('result'),
      progress: collect('progress'),
      refunded: collect('refunded'),
      refundProgress: collect('refund-progress'),
      list: collect('list'),
      events: collect('event'),
      errs: per(errors),
      status: per(statuses),
    };
  }

  /** Sends msg to a node and resolves with the next message that arrives in `into`. */
  async send(node: string, msg: Msg, into: Msg[], limitMs = 15000): Promise<Msg> {
    const before = into.length;
    helper.getNode(node).receive(msg);
    await until(() => into.length > before, `a message after ${node}`, limitMs);
    return into[before]!;
  }

  payment(amount: number, reference: string, extra: Record<string, unknown> = {}): Msg {
    return { payload: { amount, currency: this.entry.currency, reference, ...extra } };
  }
}

/**
 * Every status a node showed since the flow was loaded, the ones set while it was being built
 * included (the 'call:status' events of those fire before a test can listen).
 */
export function allStatuses(id: string): Status[] {
  const node = helper.getNode(id);
  const spy = node?.status as { getCalls?: () => Array<{ thisValue: unknown; args: unknown[] }> } | undefined;
  return (spy?.getCalls?.() ?? []).filter((c) => c.thisValue === node).map((c) => c.args[0] as Status);
}

/**
 * One describe per matrix entry; the body is shared and reads the entry from `c`. With `needs`,
 * an entry without that capability runs one test instead: the pay node says it cannot and
 * refuses a payment with a clear error (never a skip).
 */
export function forEachProvider(title: string, body: (c: Conformance) => void, needs?: Capability): void {
  for (const entry of MATRIX) {
    describe(`conformance, ${entry.provider}: ${title}`, function () {
      this.timeout(30000);
      const c = new Conformance(entry);
      before((done) => { helper.startServer(done); });
      after((done) => { helper.stopServer(done); });
      beforeEach(async () => { c.handle = await entry.start(); });
      afterEach(async () => {
        await helper.unload();
        await c.handle.stop();
      });
      if (!needs || entry.capabilities[needs]) body(c);
      else notOffered(c, needs);
    });
  }
}

function notOffered(c: Conformance, capability: Capability): void {
  it(`${capability} is not offered: the pay node says so and refuses a payment with a clear error`, async () => {
    const { results, progress, errs } = await c.load();
    assert.ok(allStatuses('pay').some((s) => s.fill === 'red' && /capabilityMissing|cannot do this/.test(String(s.text))), 'the status says the provider cannot');
    helper.getNode('pay').receive(c.payment(c.amounts.approved, c.ref('not-offered')));
    await until(() => errs.pay.length === 1, 'the error');
    assert.match(errs.pay[0]!, new RegExp(`${c.entry.provider} does not support ${capability}`));
    await sleep(50);
    assert.equal(results.length + progress.length, 0);
  });
}

const RESULT_KEYS = ['kind', 'outcome', 'approved', 'amount', 'currency', 'reference', 'terminalId', 'provider', 'transactionId', 'authCode', 'card', 'receipt', 'message', 'raw'];
const RESULT_REQUIRED = ['kind', 'outcome', 'approved', 'amount', 'currency', 'reference', 'provider', 'card', 'receipt', 'message', 'raw'];
const CARD_KEYS = ['scheme', 'last4', 'entryMode', 'verification'];
const PROGRESS_KEYS = ['reference', 'terminalId', 'provider', 'event', 'message', 'raw'];
const PROGRESS_REQUIRED = ['reference', 'provider', 'event', 'message', 'raw'];
export const LOWER_SNAKE = /^[a-z0-9]+(_[a-z0-9]+)*$/;

function keysWithin(value: Record<string, unknown>, allowed: string[], required: string[], what: string): void {
  const keys = Object.keys(value);
  assert.deepEqual(keys.filter((k) => !allowed.includes(k)), [], `${what}: keys outside the documented shape`);
  assert.deepEqual(required.filter((k) => !keys.includes(k)), [], `${what}: documented keys missing`);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** DESIGN.md "Messages": the result on output 1. */
export function assertResult(r: Record<string, any>, expected: { outcome: string; amount: number; currency: string; reference: string; provider: string; terminalId?: string; kind?: string }): void {
  assert.ok(isPlainObject(r), 'the result is an object');
  keysWithin(r, RESULT_KEYS, RESULT_REQUIRED, 'result');
  // Every result says which kind of transaction it answers (DESIGN.md "Transaction kinds").
  if (expected.kind !== undefined) assert.equal(r.kind, expected.kind);
  else assert.ok(r.kind === 'sale' || r.kind === 'refund', `kind ${r.kind} is sale or refund`);
  assert.equal(r.outcome, expected.outcome, `outcome (message: ${r.message})`);
  assert.equal(r.approved, expected.outcome === 'approved');
  assert.ok(Number.isSafeInteger(r.amount), `amount ${r.amount} is an integer in minor units`);
  assert.equal(r.amount, expected.amount);
  assert.equal(r.currency, expected.currency);
  assert.equal(r.reference, expected.reference);
  assert.equal(r.provider, expected.provider);
  for (const k of ['terminalId', 'transactionId', 'authCode']) {
    if (k in r) assert.equal(typeof r[k], 'string', `${k} is a string when present`);
  }
  if (expected.terminalId !== undefined) assert.equal(r.terminalId, expected.terminalId);
  assert.ok(isPlainObject(r.card), 'card is an object');
  keysWithin(r.card, CARD_KEYS, [], 'card');
  for (const k of Object.keys(r.card)) assert.equal(typeof r.card[k], 'string', `card.${k} is a string`);
  assert.ok(isPlainObject(r.receipt), 'receipt is an object');
  keysWithin(r.receipt, ['merchant', 'customer'], [], 'receipt');
  for (const side of Object.values(r.receipt)) assert.ok(Array.isArray(side) && side.every((l) => typeof l === 'string'), 'receipt lines are strings');
  assert.equal(typeof r.message, 'string');
  assert.ok((r.message as string).length > 0, 'the result says something a person can read');
  assert.notEqual(r.raw, undefined, 'raw rides along');
}

/** DESIGN.md "Messages": a progress event on output 2. */
export function assertProgress(m: Msg, reference: string, provider: string): void {
  const p = m.payload as Record<string, unknown>;
  assert.ok(isPlainObject(p), 'progress payload is an object');
  keysWithin(p, PROGRESS_KEYS, PROGRESS_REQUIRED, 'progress');
  assert.equal(p.reference, reference);
  assert.equal(p.provider, provider);
  assert.match(String(p.event), LOWER_SNAKE);
  assert.equal(m.topic, p.event);
  assert.equal(typeof p.message, 'string');
  if ('terminalId' in p) assert.equal(typeof p.terminalId, 'string');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
