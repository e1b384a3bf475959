// Checking a SensePass device: the Socket.IO connection named after the paired device, and
// which Socket.IO protocol the server speaks (its version is not documented): the client the
// connection is set to answers first; when it gets no handshake, the other client is tried
// once, so the report can say which "Socket.IO client" setting to choose.

import { PosError } from '../core/errors';
import { waitForVerdict } from './wait';
import { SensePassProvider } from '../providers/sensepass/client';
import { sensepassEndpoints } from '../providers/sensepass/urls';
import { SensePassSimulator, SIMULATOR_DEVICE_ID } from '../simulators/sensepass';
import { endpointOf, missingOf, secret, startSimulated, text, type Simulated } from './fields';
import type { CheckTarget, ProviderCheck } from './types';

export const sensepassCheck: ProviderCheck = {
  provider: 'sensepass',
  fields: ['clientVersion', 'transports', 'autoCommit'],
  secrets: ['deviceId'],
  credentialLabel: 'device id',
  defaultCurrency: 'USD',
  required: (input) => missingOf(input, [['secret', 'deviceId']]),
  async build(input, wire, observed): Promise<CheckTarget> {
    let sim: Simulated | undefined;
    if (input.environment === 'simulator') sim = await startSimulated(new SensePassSimulator({ stepDelayMs: 50 }));
    try {
      const version = text(input, 'clientVersion') === '2' ? '2' as const : '4' as const;
      const transports: 'default' | 'websocket' | 'polling' = (['websocket', 'polling'] as const).find((t) => t === text(input, 'transports')) ?? 'default';
      const options = {
        ...endpointOf(input, sim),
        deviceId: sim ? SIMULATOR_DEVICE_ID : secret(input, 'deviceId'),
        clientVersion: version,
        transports,
        verifyTls: input.verifyTls !== false,
        handshakeTimeoutMs: input.timeoutMs ?? 10_000,
        requestTimeoutMs: input.timeoutMs ?? 10_000,
      };
      if (!options.deviceId) throw new PosError('bad_input', 'missing: deviceId');
      const provider = new SensePassProvider({ ...options, wire });
      return {
        provider,
        address: sensepassEndpoints(options).socketOrigin,
        observed,
        facts: async (sink) => {
          // Connected with this client, so the server speaks its protocol.
          sink('socketIoServer', { value: version === '4' ? 'Socket.IO 3 or 4 (Engine.IO 4): the v4 client connected' : 'Socket.IO 2 (Engine.IO 3), or a newer server allowing it: the v2 client connected' });
        },
        afterHandshakeFailed: async (sink) => {
          const other = version === '4' ? '2' as const : '4' as const;
          let alternative: SensePassProvider;
          try {
            alternative = new SensePassProvider({ ...options, clientVersion: other });
          } catch {
            return;
          }
          try {
            alternative.start();
            const v = await waitForVerdict(alternative, options.handshakeTimeoutMs);
            // Refused or connected, either way that client got an answer where the set one did not.
            if (v.kind === 'connected' || v.kind === 'refused') {
              sink('socketIoServer', {
                value: other === '2' ? 'Socket.IO 2 (Engine.IO 3): only the v2 client got an answer' : 'Socket.IO 3 or 4 (Engine.IO 4): only the v4 client got an answer',
                advice: `set "Socket.IO client" to ${other} (clientVersion: "${other}")${other === '2' ? ', after installing it: npm install socket.io-client-v2@npm:socket.io-client@^2.5.0' : ''}`,
              });
            }
          } catch {
            // The v2 client is an optional install; without it there is nothing more to learn here.
          } finally {
            await alternative.stop().catch(() => undefined);
          }
        },
        ...(sim ? { cleanup: sim.stop } : {}),
      };
    } catch (err) {
      await sim?.stop();
      throw err;
    }
  },
};
