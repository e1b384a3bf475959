// Modulus Labs through the nodes: another client with our key displaces us (we stop and say
// why, no reconnect loop), a gateway that stops answering pings is left within the heartbeat
// window, terminal status pushes reach notification and terminals nodes.

import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ModulusSimulator } from '../../lib/simulators/modulus';
import { collect, errors, helper, statuses, until, type Msg } from './harness';

const KEY = 'mk_SECRET_key_5e9d1a';

const modulusNodes = [
  require('../../nodes/pos-modulus.js'),
  require('../../nodes/pos-pay.js'),
  require('../../nodes/pos-terminals.js'),
  require('../../nodes/pos-notification-in.js'),
];

describe('Modulus Labs connection (nodes)', function () {
  this.timeout(30000);
  let sim: ModulusSimulator;
  let url: string;
  const extra: WebSocket[] = [];

  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(async () => {
    sim = new ModulusSimulator({ apiKeys: [KEY], stepDelayMs: 20 });
    ({ url } = await sim.start());
  });
  afterEach(async () => {
    for (const ws of extra.splice(0)) ws.terminate();
    await helper.unload();
    await sim.stop();
  });

  const at = (y: number) => ({ z: 'tab', x: 100, y });
  const flow = (config: Record<string, unknown> = {}) => [
    { id: 'tab', type: 'tab', label: 'test' },
    { id: 'cfg', type: 'pos-modulus', name: 'gw', environment: 'custom', url, endpoint: '', groupId: '', keyInQuery: false, verifyTls: true, heartbeat: 30, ...config },
    { id: 'pay', type: 'pos-pay', ...at(100), provider: 'modulus', modulus: 'cfg', terminalId: 'TERM-001', currency: 'PHP', timeout: 20, wires: [['result'], ['progress']] },
    { id: 'list', type: 'pos-terminals', ...at(140), provider: 'modulus', modulus: 'cfg', wires: [['terminals']] },
    { id: 'events', type: 'pos-notification-in', ...at(180), provider: 'modulus', modulus: 'cfg', wires: [['event']] },
    { id: 'result', type: 'helper', ...at(220) }, { id: 'progress', type: 'helper', ...at(260) },
    { id: 'terminals', type: 'helper', ...at(300) }, { id: 'event', type: 'helper', ...at(340) },
  ];
  const state = () => helper.getNode('cfg')?.connection?.provider.state.name as string | undefined;

  async function load(config: Record<string, unknown> = {}) {
    await helper.load(modulusNodes, flow(config), { cfg: { apiKey: KEY } });
    await until(() => state() === 'connected', 'the connection');
  }

  it('a second client with our key displaces us: every node says so, we do not reconnect, a payment is refused', async () => {
    await load();
    const payStatus = statuses('pay');
    const listStatus = statuses('list');
    const errs = errors('pay');
    const results = collect('result');
    assert.equal(sim.connectionsAccepted, 1);
    const other = new WebSocket(`${url}/v1`, { headers: { 'x-api-key': KEY } });
    extra.push(other);
    await new Promise((resolve, reject) => { other.once('open', resolve); other.once('error', reject); });
    await until(() => state() === 'displaced', 'the displaced state');
    // Statuses are throttled (at most one per 150 ms): the displaced one may show a moment later.
    await until(() => [payStatus, listStatus].every((list) => list[list.length - 1]?.fill === 'red'), 'the red statuses', 2000);
    for (const list of [payStatus, listStatus]) {
      const last = list[list.length - 1]!;
      assert.equal(last.fill, 'red');
      // The helper loads no message catalogs, so the status is the catalog key (the browser test reads the words).
      assert.match(String(last.text), /displaced|another client took over/);
    }
    const reason = (helper.getNode('cfg').connection.provider.state as { reason?: string }).reason ?? '';
    assert.match(reason, /another client using the same API key took over/);
    // Several backoff periods (1 s, 2 s) pass without a single new connection from us.
    await new Promise((r) => setTimeout(r, 3500));
    assert.equal(sim.connectionsAccepted, 2, 'ours and the other client, nothing more');
    assert.equal(state(), 'displaced');
    assert.equal(other.readyState, WebSocket.OPEN, 'the other client keeps its connection');
    helper.getNode('pay').receive({ payload: { amount: 1250, currency: 'PHP', reference: 'DISP-1' } });
    await until(() => errs.length === 1, 'the refusal');
    assert.match(errs[0]!, /not connected.*displaced/);
    assert.equal(results.length, 0);
    assert.equal(sim.ledger.length, 0);
    assert.ok(!JSON.stringify(helper.log().args).includes(KEY), 'the key is not logged');
  });

  it('a gateway that stops answering pings is left and reconnected within the heartbeat window', async () => {
    await load({ heartbeat: 1 });
    const status = statuses('pay');
    const before = sim.connectionsAccepted;
    sim.setFault('stopPonging', true);
    const t0 = Date.now();
    // ping every 1 s, 1 s to answer, then the first retry after about 1 s.
    await until(() => sim.connectionsAccepted > before, 'a new connection', 6000);
    const took = Date.now() - t0;
    assert.ok(took < 4500, `reconnected after ${took} ms`);
    assert.ok(status.some((s) => /reconnecting/.test(String(s.text))), 'the status said reconnecting');
    sim.setFault('stopPonging', false);
    await until(() => state() === 'connected', 'connected again');
  });

  it('terminal status pushes reach the notification node and the terminal list, in one vocabulary', async () => {
    await load();
    const events = collect('event');
    const terminals = collect('terminals');
    sim.setTerminalStatus('TERM-002', 'disconnected');
    await until(() => events.some((m) => m.topic === 'terminal_offline'), 'terminal_offline');
    const off = events.find((m) => m.topic === 'terminal_offline')!;
    assert.equal(off.payload.provider, 'modulus');
    assert.equal(off.payload.terminalId, 'TERM-002');
    assert.equal(off.payload.data.status, 'disconnected', 'the gateway\'s own word stays in data');
    helper.getNode('list').receive({ payload: '' });
    await until(() => terminals.length === 1, 'the terminal list');
    const byId = new Map((terminals[0]!.payload as Array<{ id: string; status: string }>).map((t) => [t.id, t.status]));
    assert.equal(byId.get('TERM-001'), 'available');
    assert.equal(byId.get('TERM-002'), 'offline');
    sim.setTerminalStatus('TERM-002', 'connected');
    await until(() => events.some((m) => m.topic === 'terminal_online' && m.payload.terminalId === 'TERM-002'), 'terminal_online');
  });

  it('a payment result is a notification too, linked to the payment\'s reference', async () => {
    await load();
    const events = collect('event');
    const results = collect('result');
    helper.getNode('pay').receive({ payload: { amount: 1250, currency: 'PHP', reference: 'NOTE-1' } });
    await until(() => results.length === 1, 'the result');
    assert.equal(results[0]!.payload.outcome, 'approved');
    await until(() => events.some((m: Msg) => m.topic === 'payment_complete'), 'payment_complete');
    assert.equal(events.find((m) => m.topic === 'payment_complete')!.payload.reference, 'NOTE-1');
  });
});
