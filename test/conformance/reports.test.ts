// pos-report for every provider: the documented report where the capability is claimed, and a
// capability_missing error with nothing sent where it is not (never a silent no-op).

import assert from 'node:assert/strict';
import { REPORT_TYPES } from '../../lib/core/report';
import { allStatuses, forEachProvider, helper, sleep, until, type Conformance, type Msg } from './fixture';

const reportNode = require('../../nodes/pos-report.js');

forEachProvider('reports', (c: Conformance) => {
  it('runs a report in the documented shape where offered, otherwise capability_missing', async () => {
    const { entry, handle } = c;
    await helper.load([...entry.nodeModules, reportNode], [
      { id: 'tab', type: 'tab', label: 'conformance' },
      handle.config('cfg'),
      { id: 'reporter', type: 'pos-report', z: 'tab', provider: entry.provider, [entry.provider]: 'cfg', timeout: 20, wires: [['out']] },
      { id: 'out', type: 'helper', z: 'tab' },
    ], handle.credentials('cfg'));
    const out: Msg[] = [];
    helper.getNode('out').on('input', (m: Msg) => out.push(m));
    const codes: string[] = [];
    helper.getNode('reporter').on('call:error', (call: { args: Array<{ code?: string; message?: string }> }) => codes.push(`${call.args[0]?.code}: ${call.args[0]?.message}`));
    const terminalId = entry.terminalId ?? 'any-terminal';

    if (!entry.capabilities.reports) {
      assert.ok(allStatuses('reporter').some((s) => s.fill === 'red' && /capabilityMissing|cannot do this/.test(String(s.text))), 'the status says the provider cannot');
      helper.getNode('reporter').receive({ payload: { type: 'end_of_day', terminalId } });
      await until(() => codes.length === 1, 'the error');
      assert.match(codes[0]!, new RegExp(`^capability_missing: ${entry.provider} does not support reports`));
      await sleep(50);
      assert.equal(out.length, 0);
      if (handle.openConnections) assert.equal(handle.openConnections(), 0, 'no connection was opened for a node that cannot work');
      return;
    }

    await until(() => c.connectionState() === 'connected', `the ${entry.provider} connection`, 10000);
    helper.getNode('reporter').receive({ payload: { type: 'x_balance', terminalId } });
    await until(() => out.length === 1 || codes.length > 0, 'the report', 15000);
    assert.deepEqual(codes, []);
    const r = out[0]!.payload as Record<string, unknown>;
    assert.deepEqual(Object.keys(r).filter((k) => k !== 'balances').sort(), ['lines', 'provider', 'raw', 'result', 'terminalId', 'type']);
    assert.equal(r.provider, entry.provider);
    assert.equal(r.terminalId, terminalId);
    assert.ok((REPORT_TYPES as readonly string[]).includes(r.type as string));
    assert.ok(r.result === 'complete' || r.result === 'timed_out');
    assert.ok(Array.isArray(r.lines) && (r.lines as unknown[]).every((l) => typeof l === 'string'));
    if (r.balances !== undefined) {
      for (const [k, v] of Object.entries(r.balances as Record<string, unknown>)) {
        if (/Amount$|Count$/.test(k)) assert.ok(Number.isSafeInteger(v), `balances.${k} is an integer`);
      }
    }
    assert.notEqual(r.raw, undefined);
    assert.ok(!JSON.stringify(out[0]).includes(handle.secret), 'no secret in the output');
  });
});
