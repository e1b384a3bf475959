// Checking a Dojo account: the EPOS Data WebSocket (Dojo checks the key on the upgrade), the
// terminal list over REST, and the capability version string [inferred 'v1'] read from the
// account's current registration. Reading, not registering: a PUT replaces the account's
// whole list and would cut a running EPOS connection's capabilities.

import { requestJson } from '../core/http';
import { DojoProvider } from '../providers/dojo/client';
import { dojoEndpoints } from '../providers/dojo/endpoint';
import { DOJO_API_VERSION } from '../providers/dojo/rest';
import { DojoSimulator, SIMULATOR_API_KEY } from '../simulators/dojo';
import { endpointOf, missingOf, secret, startSimulated, text, type Simulated } from './fields';
import type { CheckTarget, FactSink, ProviderCheck } from './types';

const DEFAULT_CAPABILITY_VERSION = 'v1';

export const dojoCheck: ProviderCheck = {
  provider: 'dojo',
  fields: ['softwareHouseId', 'resellerId', 'capabilityVersion'],
  secrets: ['apiKey'],
  credentialLabel: 'API key',
  defaultCurrency: 'GBP',
  required: (input) => missingOf(input, [['field', 'softwareHouseId'], ['secret', 'apiKey']]),
  async build(input, wire, observed): Promise<CheckTarget> {
    let sim: Simulated | undefined;
    if (input.environment === 'simulator') sim = await startSimulated(new DojoSimulator({ stepDelayMs: 50 }));
    try {
      const options = {
        ...endpointOf(input, sim),
        apiKey: sim ? SIMULATOR_API_KEY : secret(input, 'apiKey'),
        softwareHouseId: text(input, 'softwareHouseId') || (sim ? 'softwareHouse1' : ''),
        ...(text(input, 'resellerId') ? { resellerId: text(input, 'resellerId') } : {}),
        verifyTls: input.verifyTls !== false,
        handshakeTimeoutMs: input.timeoutMs ?? 10_000,
        restTimeoutMs: input.timeoutMs ?? 10_000,
        pollIntervalMs: 500,
      };
      // Read-only: opening the EPOS socket must not replace the account's registered capabilities.
      const provider = new DojoProvider({ ...options, wire, readOnly: true });
      const endpoints = dojoEndpoints(options);
      const configured = text(input, 'capabilityVersion') || DEFAULT_CAPABILITY_VERSION;
      return {
        provider,
        address: endpoints.wsUrl,
        observed,
        facts: (sink) => capabilityFact(endpoints.restBase, options, configured, input.timeoutMs ?? 10_000, sink),
        ...(sim ? { cleanup: sim.stop } : {}),
      };
    } catch (err) {
      await sim?.stop();
      throw err;
    }
  },
};

interface Registered { capabilities?: Array<{ name?: unknown; version?: unknown }> }

async function capabilityFact(
  restBase: string, o: { apiKey: string; softwareHouseId: string; resellerId?: string; verifyTls: boolean }, configured: string, timeoutMs: number, sink: FactSink,
): Promise<void> {
  const res = await requestJson({
    method: 'GET', url: `${restBase.replace(/\/+$/, '')}/epos/integrations/ws`, timeoutMs, verifyTls: o.verifyTls,
    headers: { Authorization: `Basic ${o.apiKey}`, version: DOJO_API_VERSION, 'software-house-id': o.softwareHouseId, ...(o.resellerId ? { 'reseller-id': o.resellerId } : {}) },
  });
  if (res.status < 200 || res.status >= 300) {
    sink('capabilityVersion', { value: `not settled: Dojo answered the registration read with HTTP ${res.status}` });
    return;
  }
  const list = (Array.isArray(res.body) ? res.body : [res.body]) as Registered[];
  const versions = new Set<string>();
  for (const integration of list) {
    for (const c of integration?.capabilities ?? []) if (typeof c?.version === 'string') versions.add(c.version);
  }
  if (versions.size === 0) {
    sink('capabilityVersion', { value: `not settled: nothing is registered yet (the pack registers "${configured}" when a flow asks for Dojo's requests or events)` });
    return;
  }
  const seen = [...versions];
  const differs = !versions.has(configured);
  sink('capabilityVersion', {
    value: seen,
    ...(differs ? { advice: `set capabilityVersion to "${seen[0]}": the account's registered capabilities carry ${seen.map((v) => `"${v}"`).join(', ')}, not "${configured}"` } : {}),
  });
}
