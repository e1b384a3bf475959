// Requests a provider sends *to us* (an EPoS data API, pay at table):
// the library validates them and hands them to whoever serves the method; the answer goes back
// through the provider, which turns errors into its own wire shape. Nothing here knows a
// provider's vocabulary: a handler rejects with an InboundError carrying the provider's error
// type, or with a PosError that the provider maps (not_found, bad_input, timeout, ...).

import type { ConnectionState, ProviderName } from './types';

/** A rejection that names the provider's own error type (e.g. NotFound, Conflict, ...). */
export class InboundError extends Error {
  constructor(readonly type: string, message: string) {
    super(message);
    this.name = 'InboundError';
  }
}

export interface InboundRequest {
  readonly provider: ProviderName;
  /** As the provider spells it, e.g. SearchOrdersV1. */
  readonly method: string;
  /** The provider's request id; a repeated id is answered from the first answer, never run twice. */
  readonly id: string;
  /** Already validated against the provider's schema for this method. */
  readonly params: unknown;
  readonly receivedAt: string;
  /** Why `result` would not be a valid answer to this method; undefined when it would be. */
  checkResult(result: unknown): string | undefined;
  /** The error types the provider understands, the catch-all first. */
  readonly errorTypes: readonly string[];
  /**
   * False for a message the provider sends without waiting for an answer (at a table: the
   * payments made, the table unlocked); the flow sees it without a request id.
   */
  readonly expectsAnswer?: boolean;
}

/** What a request-in node shows when the requests come over a connection of their own. */
export interface LinkStatus {
  readonly state: ConnectionState;
  /** Set while the flow answers more slowly than the provider waits. */
  readonly slow?: { readonly method: string; readonly limitMs: number };
}

/** A connection that carries only the requests (pay at table on a socket of its own). */
export interface RequestLink {
  /** Names the link in the status line, as a key under `pos.status.link` (e.g. `tables`). */
  readonly label: string;
  readonly status: LinkStatus;
  onStatus(listener: (status: LinkStatus) => void): () => void;
}

/** Resolves with the result, or rejects with an InboundError / PosError / any Error. */
export type InboundHandler = (request: InboundRequest) => Promise<unknown>;

export interface RequestServer {
  /** Every method (as the provider spells it) a flow may serve. */
  readonly methods: readonly string[];
  /**
   * Replaces the set of methods served and their handler. The provider tells the remote side
   * (e.g. by registering capabilities) whenever the set changes. Methods outside the set are
   * refused in the provider's own error shape without reaching the handler.
   */
  serve(methods: ReadonlySet<string>, handler: InboundHandler): void;
  /** Why no flow can be served at all (pay at table switched off); undefined when requests can be served. */
  readonly unavailable?: string;
  /** Present when the requests come over a connection of their own, whose state request-in nodes show. */
  readonly link?: RequestLink;
}
