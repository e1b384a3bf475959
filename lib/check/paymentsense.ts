// Checking a Paymentsense Connect account: the PAC socket, the terminal list, and the
// [inferred] facts a server can settle without moving money: whether it knows the
// `transactionDetails` look-up. With --pay also the progress notification method and the
// signature request method it actually uses.

import { randomUUID } from 'node:crypto';
import { PaymentsenseProvider } from '../providers/paymentsense/client';
import { paymentsenseUrl } from '../providers/paymentsense/url';
import { METHOD } from '../providers/paymentsense/wire';
import { PaymentsenseSimulator, SIMULATOR_TOKEN } from '../simulators/paymentsense';
import { endpointOf, jsonFrames, missingOf, secret, startSimulated, text, type Simulated } from './fields';
import type { CheckTarget, FactSink, FrameLog, ProviderCheck } from './types';

export const paymentsenseCheck: ProviderCheck = {
  provider: 'paymentsense',
  fields: ['account', 'softwareHouseId', 'installerId', 'transactionLookup'],
  secrets: ['token'],
  credentialLabel: 'token',
  defaultCurrency: 'GBP',
  required: (input) => missingOf(input, [
    ...(input.environment === 'test' || input.environment === 'production' ? [['field', 'account'] as ['field', string]] : []),
    ['field', 'softwareHouseId'], ['field', 'installerId'], ['secret', 'token'],
  ]),
  async build(input, wire, observed): Promise<CheckTarget> {
    let sim: Simulated | undefined;
    if (input.environment === 'simulator') sim = await startSimulated(new PaymentsenseSimulator({ stepDelayMs: 50 }));
    try {
      const endpoint = {
        ...endpointOf(input, sim),
        ...(text(input, 'account') ? { account: text(input, 'account') } : {}),
        token: sim ? SIMULATOR_TOKEN : secret(input, 'token'),
        softwareHouseId: text(input, 'softwareHouseId') || (sim ? 'SIMULATOR' : ''),
        installerId: text(input, 'installerId') || (sim ? 'SIMULATOR' : ''),
      };
      const provider = new PaymentsenseProvider({
        ...endpoint,
        verifyTls: input.verifyTls !== false,
        handshakeTimeoutMs: input.timeoutMs ?? 10_000,
        requestTimeoutMs: input.timeoutMs ?? 10_000,
        // The check asks about look-up support itself, so a saved "off" must not hide the answer.
        transactionLookup: true,
        wire,
      });
      return {
        provider,
        address: paymentsenseUrl(endpoint),
        observed,
        facts: (sink) => lookupFact(provider, sink, text(input, 'transactionLookup') === 'false'),
        factsAfterPay: (sink) => wireFacts(observed, sink),
        ...(sim ? { cleanup: sim.stop } : {}),
      };
    } catch (err) {
      await sim?.stop();
      throw err;
    }
  },
};

/** Asks about a request id nobody used: harmless, and the answer shows whether the method exists. */
async function lookupFact(provider: PaymentsenseProvider, sink: FactSink, savedOff: boolean): Promise<void> {
  await provider.lookup({ request: { kind: 'sale', amount: 1, currency: 'GBP', reference: 'connection-check' }, attemptId: randomUUID() });
  const known = provider.transactionLookupKnown;
  if (known === true) {
    sink('lookupMethod', {
      value: METHOD.transactionDetails,
      ...(savedOff ? { advice: 'tick "Look up lost results" (transactionLookup: true): this server knows transactionDetails' } : {}),
    });
  } else if (known === false) {
    sink('lookupMethod', {
      value: 'none',
      ...(savedOff ? {} : { advice: 'untick "Look up lost results" (transactionLookup: false): this server does not know transactionDetails, so a lost result is reported unknown at once and says why' }),
    });
  } else {
    sink('lookupMethod', { value: 'not settled: the server gave no answer the check could read' });
  }
}

/** Method names Connect used during the test payment: notifications (no id) and requests to us (with an id). */
function wireFacts(observed: FrameLog, sink: FactSink): void {
  const notifications = new Set<string>();
  const requests = new Set<string>();
  for (const f of jsonFrames(observed, 'in')) {
    if (typeof f.method !== 'string') continue;
    if (f.id === undefined || f.id === null) notifications.add(f.method);
    else requests.add(f.method);
  }
  sink('notificationMethods', { value: [...notifications] });
  // The adapter answers any request whose name contains "signature", whatever it is called.
  sink('serverRequestMethods', { value: [...requests] });
}
