// The flow the real-process journal tests deploy: POST /pay -> pos-pay -> HTTP answer (errors
// answered 500 through a Catch), and every payment_recovered appended to a file, since it is
// sent as soon as a restarted Node-RED connects, before a test could subscribe to debug messages.

import path from 'node:path';
import { NodeRedProcess } from './node-red-process';

/** The provider connection each test's simulator answers as (a custom URL, the simulator's own credentials). */
const CONNECTIONS = {
  paymentsense: { type: 'pos-paymentsense', softwareHouseId: 'SH01', installerId: 'IN01', credentials: { token: 'simulator-token' } },
  modulus: { type: 'pos-modulus', credentials: { apiKey: 'mk_simulator_key', apiSecret: 'mk_simulator_secret' } },
} as const;

/**
 * `config`: the provider connection node (id `<prefix>-cfg`, credentials included); `extra`:
 * more config nodes (a journal).
 */
export function httpPayFlow(prefix: string, simUrl: string, eventsFile: string, config: Record<string, unknown> = {}, extra: object[] = [],
  provider: keyof typeof CONNECTIONS = 'paymentsense'): object[] {
  const z = `${prefix}-tab`;
  const id = (name: string) => `${prefix}-${name}`;
  return [
    { id: z, type: 'tab', label: `${prefix} test` },
    ...extra,
    { id: id('cfg'), name: 'sim', environment: 'custom', url: simUrl, verifyTls: true, ...CONNECTIONS[provider], ...config },
    { id: id('in'), type: 'http in', z, url: '/pay', method: 'post', wires: [[id('pay')]] },
    { id: id('pay'), type: 'pos-pay', z, provider, [provider]: id('cfg'), timeout: 30, wires: [[id('out')], []] },
    { id: id('out'), type: 'http response', z, statusCode: '', headers: {}, wires: [] },
    { id: id('catch'), type: 'catch', z, scope: [id('pay')], uncaught: false, wires: [[id('err')]] },
    {
      id: id('err'), type: 'change', z, wires: [[id('out')]],
      rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'error', tot: 'msg' }, { t: 'set', p: 'statusCode', pt: 'msg', to: '500', tot: 'num' }],
    },
    { id: id('notif'), type: 'pos-notification-in', z, provider, [provider]: id('cfg'), events: 'payment_recovered', wires: [[id('events')]] },
    { id: id('events'), type: 'file', z, filename: eventsFile, filenameType: 'str', appendNewline: true, createDir: true, overwriteFile: 'false', encoding: 'utf8', wires: [] },
  ];
}

/**
 * Two real Node-RED processes (test/support/node-red-process.ts), each deployed with
 * `flows(eventsFile)` where eventsFile is where its payment_recovered events are appended.
 * Returns them with their event files, in the same order.
 */
export async function startNodeReds(count: number, flows: (eventsFile: string) => object[]): Promise<Array<{ red: NodeRedProcess; events: string }>> {
  const started: Array<{ red: NodeRedProcess; events: string }> = [];
  for (let i = 0; i < count; i++) {
    const red = new NodeRedProcess([]);
    const events = path.join(red.userDir, 'recovered.jsonl');
    started.push({ red, events });
    await red.start();
    const res = await red.api('/flows', { method: 'POST', body: JSON.stringify(flows(events)), headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' } });
    if (res.status !== 204) throw new Error(`deploying to Node-RED ${i + 1}: ${res.status} ${await res.text()}`);
  }
  return started;
}
