// Checking a QuickPay stream account: the Pusher socket, then the channel authorisations (the
// JSON auth endpoint with our RS256 JWT, whose `uri` claim is [inferred]) for every stream,
// and the event names that arrive while the check listens [inferred defaults].

import { QuickPayProvider } from '../providers/quickpay/client';
import { STREAM_TOPICS } from '../providers/quickpay/channels';
import { quickpayEndpoints } from '../providers/quickpay/urls';
import { QuickPaySimulator, SIMULATOR_API_KEY, SIMULATOR_APP_KEY, SIMULATOR_MERCHANT_ID, simulatorKeys } from '../simulators/quickpay';
import { endpointOf, jsonFrames, missingOf, secret, text, type Simulated } from './fields';
import type { CheckTarget, FactSink, FrameLog, ProviderCheck } from './types';

const DEFAULT_PAYMENT_EVENT = 'payment.status.updated';
const DEFAULT_NOTIFICATION_EVENT = 'system.notification';

export const quickpayCheck: ProviderCheck = {
  provider: 'quickpay',
  fields: ['appKey', 'merchantId', 'paymentEvent', 'notificationEvent'],
  secrets: ['apiKey', 'privateKey'],
  credentialLabel: 'API key or private key',
  // The JWT's `uri` claim for the auth call is [inferred]; a refusal with the right keys points there.
  refusedHint: 'if both are right, the auth call\'s JWT uri claim (/v1/websocket/auth, not confirmed by QuickPay) may be what was refused: send this report to support',
  defaultCurrency: 'EUR',
  required: (input) => missingOf(input, [['field', 'merchantId'], ['secret', 'apiKey'], ['secret', 'privateKey']]),
  async build(input, wire, observed): Promise<CheckTarget> {
    let sim: Simulated | undefined;
    if (input.environment === 'simulator') {
      const s = new QuickPaySimulator({ rateIntervalMs: 200, paymentIntervalMs: 200 });
      const { apiUrl } = await s.start();
      sim = { url: apiUrl, stop: () => s.stop() };
    }
    try {
      const options = {
        ...endpointOf(input, sim),
        appKey: sim ? SIMULATOR_APP_KEY : text(input, 'appKey') || SIMULATOR_APP_KEY,
        merchantId: text(input, 'merchantId') || (sim ? SIMULATOR_MERCHANT_ID : ''),
        apiKey: sim ? SIMULATOR_API_KEY : secret(input, 'apiKey'),
        privateKeyPem: sim ? simulatorKeys().privateKeyPem : secret(input, 'privateKey'),
        verifyTls: input.verifyTls !== false,
        authTimeoutMs: input.timeoutMs ?? 10_000,
        ...(text(input, 'paymentEvent') ? { paymentEvent: text(input, 'paymentEvent') } : {}),
        ...(text(input, 'notificationEvent') ? { notificationEvent: text(input, 'notificationEvent') } : {}),
      };
      const provider = new QuickPayProvider({ ...options, wire });
      // Every stream, so the check shows which channels this account may read.
      provider.setTopics([...STREAM_TOPICS]);
      return {
        provider,
        address: quickpayEndpoints(options, options.appKey).wsUrl,
        observed,
        ready: (s) => s.name === 'connected' && (s.channels?.subscribing ?? 0) === 0,
        facts: async (sink) => channelFacts(observed, sink, options),
        ...(sim ? { cleanup: sim.stop } : {}),
      };
    } catch (err) {
      await sim?.stop();
      throw err;
    }
  },
};

function channelFacts(observed: FrameLog, sink: FactSink, o: { paymentEvent?: string; notificationEvent?: string }): void {
  const authorised = new Set<string>();
  const refused = new Set<string>();
  const events = new Set<string>();
  for (const f of jsonFrames(observed, 'in')) {
    const event = typeof f.event === 'string' ? f.event : '';
    const channel = typeof f.channel === 'string' ? f.channel : '';
    if (event === 'pusher_internal:subscription_succeeded' && channel) authorised.add(channel);
    else if (/subscription_error$/.test(event)) refused.add(channel || '(unnamed)');
    else if (event && !event.startsWith('pusher')) events.add(event);
  }
  sink('channelsAuthorised', { value: [...authorised] });
  if (refused.size) sink('channelsRefused', { value: [...refused] });
  // A channel that authorised proves the JWT (its `uri` claim included) was accepted.
  sink('jwtUri', authorised.size ? { value: 'accepted: the auth endpoint signed channels with the default uri claim' } : { value: 'not settled: no channel authorised' });
  sink('eventNames', { value: [...events] });
  const payment = o.paymentEvent ?? DEFAULT_PAYMENT_EVENT;
  const notification = o.notificationEvent ?? DEFAULT_NOTIFICATION_EVENT;
  const unknown = [...events].filter((e) => e !== payment && e !== notification && !/rate/i.test(e));
  if (events.size && !events.has(payment) && unknown.length) {
    sink('paymentEvent', { value: payment, advice: `set paymentEvent to the payment event this account sends (seen: ${unknown.join(', ')})` });
  }
}
