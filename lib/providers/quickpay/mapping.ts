// A channel event as the flow sees it. QuickPay does not document the payment and notification
// event names or payloads [doc]; every event on a subscribed channel passes through under its own
// name, and only the configured payment event gets a reference.

import type { NotificationEvent } from '../../core/types';

/** Protocol chatter, never a flow event. */
export function isPusherInternal(event: string): boolean {
  return event.startsWith('pusher:') || event.startsWith('pusher_internal:');
}

/**
 * The payment id of a payment event: the webhook objects carry `payment_id` [doc]; a WebSocket
 * payload wrapped like a webhook envelope ({ data: { payment_id } }) is read too [inferred].
 */
export function paymentReference(data: unknown): string | undefined {
  const direct = idOf(data);
  if (direct !== undefined) return direct;
  return isRecord(data) ? idOf(data.data) : undefined;
}

function idOf(value: unknown): string | undefined {
  if (!isRecord(value)) return undefined;
  const id = value.payment_id;
  if (typeof id === 'string' && id.trim()) return id;
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  return undefined;
}

export function toNotification(args: { channel: string; event: string; data: unknown; paymentEvent: string; receivedAt?: string }): NotificationEvent {
  const reference = args.event === args.paymentEvent ? paymentReference(args.data) : undefined;
  return {
    provider: 'quickpay',
    event: args.event,
    channel: args.channel,
    data: args.data === undefined ? null : args.data,
    receivedAt: args.receivedAt ?? new Date().toISOString(),
    ...(reference !== undefined ? { reference } : {}),
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
