// A report over a leased connection (one connection per account on a shared journal): the
// instance holding the lease runs it, an instance on standby refuses it, and a provider
// without reports stays without them behind the lease.

import assert from 'node:assert/strict';
import { PosError } from '../../lib/core/errors';
import { LeasedProvider, type ConnectionLease } from '../../lib/core/leased-provider';
import type { PaymentProvider } from '../../lib/core/provider';
import type { ReportRequest, ReportResult } from '../../lib/core/report';
import type { ConnectionState } from '../../lib/core/types';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A provider that runs reports and records them; everything else is unused here. */
function inner(withReports: boolean) {
  const ran: ReportRequest[] = [];
  const provider = {
    name: 'paymentsense',
    capabilities: { pay: true, refund: true, cancel: true, signature: true, terminals: true, notifications: true, requests: false, reports: withReports },
    state: { name: 'connected' } as ConnectionState,
    start() {},
    async stop() {},
    onState: () => () => undefined,
    onNotification: () => () => undefined,
    ...(withReports ? {
      async runReport(request: ReportRequest): Promise<ReportResult> {
        ran.push(request);
        return { provider: 'paymentsense', terminalId: request.terminalId, type: request.type, result: 'complete', lines: [], raw: {} };
      },
    } : {}),
  } as unknown as PaymentProvider;
  return { provider, ran };
}

/** A lease the test hands out or takes away. */
function lease() {
  let listener: ((holding: boolean) => void) | undefined;
  const l: ConnectionLease & { set(holding: boolean): void } = {
    holding: false,
    onChange(fn) { listener = fn; return () => { listener = undefined; }; },
    start() {},
    async stop() {},
    set(holding) { listener?.(holding); },
  };
  return l;
}

describe('reports behind a leased connection', () => {
  const request: ReportRequest = { type: 'z_balance', terminalId: 'T1' };
  const run = { deadline: Date.now() + 1000, onProgress() {} };

  it('only the holder runs a report; on standby it is refused as standby and nothing runs', async () => {
    const { provider, ran } = inner(true);
    const theLease = lease();
    const leased = new LeasedProvider(provider, async () => theLease, silent);
    leased.start();
    await new Promise((r) => setImmediate(r));
    assert.ok(leased.runReport, 'the report method is there when the provider has one');
    await assert.rejects(leased.runReport!(request, run), (err: unknown) => err instanceof PosError && err.code === 'standby');
    assert.equal(ran.length, 0);
    theLease.set(true);
    assert.equal((await leased.runReport!(request, run)).result, 'complete');
    assert.deepEqual(ran, [request]);
    await leased.stop();
  });

  it('a provider without reports has none behind the lease either', () => {
    const leased = new LeasedProvider(inner(false).provider, async () => lease(), silent);
    assert.equal(leased.runReport, undefined);
    assert.equal(leased.capabilities.reports, false);
  });
});
