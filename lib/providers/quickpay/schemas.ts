// What the adapter requires of what QuickPay sends (ajv, compiled once when this module loads).
// pusher-js decodes the frames; these schemas check the decoded parts the adapter reads before it
// relies on them. Only what is read is constrained; everything else passes through as data.

import { compileSchema } from '../../core/schema';

/** Every frame, as pusher-js decoded it: an event name, maybe a channel. */
export interface DecodedFrame {
  event: string;
  channel?: string;
  data?: unknown;
}

export const checkFrame = compileSchema<DecodedFrame>({
  type: 'object',
  required: ['event'],
  properties: {
    event: { type: 'string', minLength: 1, maxLength: 200 },
    channel: { type: 'string', minLength: 1, maxLength: 200 },
  },
});

/** The auth endpoint's answer [doc][seed]: {"auth":"<app key>:<signature>"}. */
export interface AuthAnswer {
  auth: string;
}

export const checkAuthAnswer = compileSchema<AuthAnswer>({
  type: 'object',
  required: ['auth'],
  properties: {
    // key:signature; the signature's form (64 hex for HMAC-SHA256) is not checked: QuickPay's server compares it.
    auth: { type: 'string', minLength: 3, maxLength: 1000, pattern: '^[^:\\s]+:[^\\s]+$' },
  },
});

/** pusher:error data and close events: {message, code} [related: Pusher protocol]. */
export interface PusherErrorData {
  code?: number | null;
  message?: string | null;
}

export const checkPusherErrorData = compileSchema<PusherErrorData>({
  type: 'object',
  properties: {
    code: { type: ['integer', 'null'] },
    message: { type: ['string', 'null'] },
  },
});

/** pusher:subscription_error, from pusher-js itself or a server (soketi style) [related]. */
export interface SubscriptionErrorData {
  type?: string;
  error?: string;
  status?: number;
}

export const checkSubscriptionError = compileSchema<SubscriptionErrorData>({
  type: 'object',
  properties: {
    type: { type: 'string' },
    error: { type: 'string' },
    status: { type: 'integer' },
  },
});

/** pusher-js reads data.subscription_count without a check; anything else would throw inside it. */
export const checkSubscriptionCount = compileSchema<{ subscription_count?: unknown }>({ type: 'object' });
