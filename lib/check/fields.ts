// Small helpers the provider checks share: trimmed text fields and the fresh simulator a
// `simulator` check talks to (its own, so a running flow's simulator is never disturbed).

import type { CheckInput, FrameLog } from './types';

export function text(input: CheckInput, name: string): string {
  const v = input.fields[name];
  return typeof v === 'string' ? v.trim() : '';
}

export function secret(input: CheckInput, name: string): string {
  const v = input.secrets[name];
  return typeof v === 'string' ? v.trim() : '';
}

/** Names of required fields that are empty, for "missing: ..." (only outside the simulator). */
export function missingOf(input: CheckInput, need: Array<[kind: 'field' | 'secret', name: string]>): string[] {
  const out: string[] = [];
  if (input.environment === 'custom' && !(input.url ?? '').trim()) out.push('url');
  if (input.environment === 'simulator') return out;
  for (const [kind, name] of need) if ((kind === 'field' ? text(input, name) : secret(input, name)) === '') out.push(name);
  return out;
}

export interface Simulated {
  url: string;
  stop(): Promise<void>;
}

/**
 * Where the adapter under check connects: the check's own simulator when one was started,
 * otherwise the environment the input names (and its custom URL, if given).
 */
export function endpointOf(input: CheckInput, sim: Simulated | undefined): { environment: Exclude<CheckInput['environment'], 'simulator'>; url?: string } {
  if (sim) return { environment: 'custom', url: sim.url };
  const environment = input.environment === 'simulator' ? 'custom' : input.environment;
  return input.url ? { environment, url: input.url.trim() } : { environment };
}

/** Starts a simulator for one check; the caller stops it in cleanup. */
export async function startSimulated(sim: { start(): Promise<{ url: string }>; stop(): Promise<void> }): Promise<Simulated> {
  try {
    const { url } = await sim.start();
    return { url, stop: () => sim.stop() };
  } catch (err) {
    await sim.stop().catch(() => undefined);
    throw err;
  }
}

/** JSON frames of the check, parsed; frames that are not JSON objects are left out. */
export function jsonFrames(observed: FrameLog, direction: 'in' | 'out'): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const f of observed.frames) {
    if (f.direction !== direction) continue;
    try {
      const v: unknown = JSON.parse(f.text);
      if (v && typeof v === 'object' && !Array.isArray(v)) out.push(v as Record<string, unknown>);
    } catch {
      // Not JSON: nothing to read a fact from.
    }
  }
  return out;
}
