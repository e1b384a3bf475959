// Checking a Modulus Labs Terminal Gateway account: the WebSocket (the key travels on the
// upgrade), getTerminals, and whether the HTTP API signs in with the secret (the look-up of a
// lost result depends on it). The gateway keeps one connection per key: checking a key a
// running flow uses displaces that flow's connection, so the admin endpoint does not open a
// second one for a deployed node (see nodes/shared/check-endpoint.ts).

import { randomUUID } from 'node:crypto';
import { ModulusProvider } from '../providers/modulus/client';
import { modulusEndpoints } from '../providers/modulus/url';
import { ModulusSimulator, SIMULATOR_API_KEY, SIMULATOR_API_SECRET } from '../simulators/modulus';
import { endpointOf, missingOf, secret, startSimulated, text, type Simulated } from './fields';
import type { CheckTarget, ProviderCheck } from './types';

export const modulusCheck: ProviderCheck = {
  provider: 'modulus',
  fields: ['endpoint', 'groupId', 'keyInQuery'],
  secrets: ['apiKey', 'apiSecret'],
  credentialLabel: 'API key',
  defaultCurrency: 'GBP',
  required: (input) => missingOf(input, [
    ...(input.environment === 'test' || input.environment === 'production' ? [['field', 'endpoint'] as ['field', string]] : []),
    ['secret', 'apiKey'],
  ]),
  async build(input, wire, observed): Promise<CheckTarget> {
    let sim: Simulated | undefined;
    if (input.environment === 'simulator') sim = await startSimulated(new ModulusSimulator({ stepDelayMs: 50 }));
    try {
      const options = {
        ...endpointOf(input, sim),
        ...(text(input, 'endpoint') ? { endpoint: text(input, 'endpoint') } : {}),
        apiKey: sim ? SIMULATOR_API_KEY : secret(input, 'apiKey'),
        ...(sim ? { apiSecret: SIMULATOR_API_SECRET } : secret(input, 'apiSecret') ? { apiSecret: secret(input, 'apiSecret') } : {}),
        ...(text(input, 'groupId') ? { groupId: text(input, 'groupId') } : {}),
        keyInQuery: !sim && text(input, 'keyInQuery') === 'true',
        verifyTls: input.verifyTls !== false,
        handshakeTimeoutMs: input.timeoutMs ?? 10_000,
        requestTimeoutMs: input.timeoutMs ?? 10_000,
      };
      const provider = new ModulusProvider({ ...options, wire });
      return {
        provider,
        address: modulusEndpoints(options).wsUrl,
        observed,
        facts: async (sink) => {
          if (!options.apiSecret) {
            sink('lookupOfLostResults', { value: 'not possible', advice: 'set the API secret: without it a lost result cannot be looked up and ends unknown' });
            return;
          }
          // A signed GET of a transaction id nobody used: 404 shows the key and secret sign correctly.
          const found = await provider.lookup({
            request: { kind: 'sale', amount: 1, currency: 'GBP', reference: 'connection-check' },
            attemptId: randomUUID(), startedAt: new Date().toISOString(), notes: { transactionId: randomUUID() },
          });
          sink('lookupOfLostResults', found.found === 'cannot_ask'
            ? { value: `not possible: ${found.reason}`, advice: 'check the API secret: the HTTP API refused the signed look-up, so a lost result would end unknown' }
            : { value: 'possible: the HTTP API accepted a signed look-up' });
        },
        ...(sim ? { cleanup: sim.stop } : {}),
      };
    } catch (err) {
      await sim?.stop();
      throw err;
    }
  },
};
