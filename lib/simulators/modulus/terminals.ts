// The simulated card terminals behind the gateway: their list entries (terminalsResponse and
// the HTTP list) and their terminalStatusUpdate pushes, in the two vocabularies the docs use.

import { randomUUID } from 'node:crypto';
import type { WireTerminal } from '../../providers/modulus/wire';

export interface SimTerminalConfig {
  deviceId: string;
  name: string;
  /** When set, a connection with a different x-group-id gets the Forbidden error. */
  group?: string;
}

export const DEFAULT_TERMINALS: readonly SimTerminalConfig[] = Object.freeze([
  { deviceId: 'TERM-001', name: 'Counter 1' },
  { deviceId: 'TERM-002', name: 'Counter 2' },
]);

export type PushStatus = 'connected' | 'reconnecting' | 'disconnected';
type ListStatus = 'online' | 'reconnecting' | 'offline';

const LIST_STATUS: Record<PushStatus, ListStatus> = { connected: 'online', reconnecting: 'reconnecting', disconnected: 'offline' };

export interface SimTerminal {
  readonly deviceId: string;
  readonly name: string;
  readonly group?: string;
  connectionId: string;
  status: ListStatus;
  connectedAt: string;
  lastActivity: string;
  /** transactionId of the payment it is running. */
  busyWith?: string;
}

export class SimTerminals {
  private readonly terminals: SimTerminal[];

  constructor(configs: readonly SimTerminalConfig[]) {
    const now = new Date().toISOString();
    this.terminals = configs.map((c) => ({
      deviceId: c.deviceId, name: c.name, ...(c.group ? { group: c.group } : {}),
      connectionId: newConnectionId(), status: 'online', connectedAt: now, lastActivity: now,
    }));
  }

  /** Docs: a terminalId resolves as a deviceId first, then as a raw connectionId (legacy). */
  find(id: string): SimTerminal | undefined {
    return this.terminals.find((t) => t.deviceId === id) ?? this.terminals.find((t) => t.connectionId === id);
  }

  all(): readonly SimTerminal[] {
    return this.terminals;
  }

  /** The WebSocket list entry [doc 3.3]; the HTTP list adds terminalId. */
  entry(t: SimTerminal, withTerminalId = false): WireTerminal {
    return {
      ...(withTerminalId ? { terminalId: t.deviceId } : {}),
      deviceId: t.deviceId, connectionId: t.connectionId, status: t.status,
      connectedAt: t.connectedAt, lastActivity: t.lastActivity, metadata: { name: t.name },
    };
  }

  setStatus(t: SimTerminal, status: PushStatus): void {
    if (status === 'connected' && t.status !== 'online') {
      // A terminal that comes back is a new connection on the gateway's side.
      t.connectionId = newConnectionId();
      t.connectedAt = new Date().toISOString();
    }
    t.status = LIST_STATUS[status];
    t.lastActivity = new Date().toISOString();
  }

  /** terminalStatusUpdate [doc]: terminalInfo is sent on connect. */
  statusFrame(t: SimTerminal, status: PushStatus): Record<string, unknown> {
    return {
      action: 'terminalStatusUpdate',
      terminalId: t.deviceId,
      deviceId: t.deviceId,
      ...(status === 'connected' ? { connectionId: t.connectionId, terminalInfo: this.entry(t) } : {}),
      status,
      timestamp: new Date().toISOString(),
      version: 'v1',
    };
  }
}

function newConnectionId(): string {
  // API Gateway style ids are short opaque strings; the exact format is not documented.
  return `conn-${randomUUID().slice(0, 8)}`;
}
