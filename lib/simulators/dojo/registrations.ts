// The capability registration store behind `PUT|GET /epos/integrations/ws` (protocol notes
// 1.2). Dojo routes a method to the EPOS only once its capability is registered, and each PUT
// replaces the whole list, so a capability left out of a re-PUT stops being routed.

import { DOJO_METHODS, capabilitiesOf, checkRest } from '../../providers/dojo/schemas';

/**
 * Dojo's CapabilityName list. dojo-api.json gives it only as prose in the schema description
 * (no enum), so the names come from the methods' capabilities derived from the AsyncAPI, plus
 * one HandleEvent capability per EventType (`HandleEvent:<event>`).
 */
export const EVENT_TYPES = ['payment_intent.created', 'payment_intent.status_updated'] as const;

export const CAPABILITY_NAMES: readonly string[] = Object.freeze([
  ...new Set([
    ...DOJO_METHODS.flatMap((m) => m.capabilities),
    ...EVENT_TYPES.map((e) => `HandleEvent:${e}`),
  ]),
]);

export interface Capability { name: string; version: string }
export interface RegisteredCapability extends Capability { updatedAt: string }
export interface Registration { at: string; capabilities: Capability[] }

/** The capability that routes `method`; for HandleEventV1 it depends on the event type. */
export function capabilityFor(method: string, params: unknown): string | undefined {
  if (method === 'HandleEventV1') {
    const event = typeof params === 'object' && params !== null ? (params as { event?: unknown }).event : undefined;
    return typeof event === 'string' ? `HandleEvent:${event}` : undefined;
  }
  return capabilitiesOf(method)[0];
}

type Waiter = { names: readonly string[]; resolve(): void; reject(err: Error): void };

export class RegistrationStore {
  /** Every accepted PUT, oldest first. */
  readonly history: Registration[] = [];
  private current: RegisteredCapability[] = [];
  private createdAt?: string;
  private waiters: Waiter[] = [];

  /** Replaces the list; returns the reason when the body is refused (nothing changes then). */
  put(body: unknown): string | undefined {
    const why = checkRest('WsIntegrationRequest', body);
    if (why) return why;
    if (typeof body !== 'object' || body === null || !Array.isArray((body as { capabilities?: unknown }).capabilities)) {
      return 'body must be { capabilities: [{ name, version }] }';
    }
    const list = (body as { capabilities: unknown[] }).capabilities;
    const byName = new Map<string, Capability>();
    for (const [i, c] of list.entries()) {
      const name = (c as { name?: unknown } | null)?.name;
      const version = (c as { version?: unknown } | null)?.version;
      if (typeof name !== 'string' || !CAPABILITY_NAMES.includes(name)) {
        return `capabilities[${i}].name ${JSON.stringify(name)?.slice(0, 60) ?? 'undefined'} is not a Dojo capability name`;
      }
      if (typeof version !== 'string' || version.trim() === '') return `capabilities[${i}].version must be a non-empty string`;
      // The docs are silent on duplicates; the last one wins rather than refusing the list.
      byName.set(name, { name, version });
    }
    const now = new Date().toISOString();
    const before = new Map(this.current.map((c) => [c.name, c]));
    this.current = [...byName.values()].map((c) => {
      const old = before.get(c.name);
      return { ...c, updatedAt: old && old.version === c.version ? old.updatedAt : now };
    });
    this.createdAt = now;
    this.history.push({ at: now, capabilities: [...byName.values()] });
    this.wake();
    return undefined;
  }

  has(name: string): boolean {
    return this.current.some((c) => c.name === name);
  }

  names(): string[] {
    return this.current.map((c) => c.name);
  }

  /** The `GET /epos/integrations/ws` body: one integration, or none before the first PUT. */
  integrations(): Array<{ capabilities: RegisteredCapability[]; createdAt: string }> {
    return this.createdAt === undefined ? [] : [{ capabilities: this.current.map((c) => ({ ...c })), createdAt: this.createdAt }];
  }

  waitFor(names: readonly string[], timeoutMs: number): Promise<void> {
    if (names.every((n) => this.has(n))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        names,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const missing = names.filter((n) => !this.has(n));
        reject(new Error(`capabilities not registered within ${timeoutMs} ms: ${missing.join(', ')}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Rejects every waiter and clears its timer (the simulator is stopping). */
  dispose(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new Error('DojoSimulator stopped'));
  }

  private wake(): void {
    const ready = this.waiters.filter((w) => w.names.every((n) => this.has(n)));
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}
