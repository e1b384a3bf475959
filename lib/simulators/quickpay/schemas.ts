// What the simulator accepts from clients, compiled once. Extra properties are allowed
// everywhere: real clients add fields (pusher-js sends channel_data: undefined, future
// versions may add more) and a server that rejected them would be stricter than Pusher.

import { compileSchema } from '../../core/schema';

/** Pusher's channel-name rule: up to 200 of these characters. */
const CHANNEL_NAME = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[-a-zA-Z0-9_=@,.;]+$' } as const;

export interface ClientFrame {
  event: string;
  channel?: string;
  data?: unknown;
}

export const isClientFrame = compileSchema<ClientFrame>({
  type: 'object',
  required: ['event'],
  properties: { event: { type: 'string', minLength: 1, maxLength: 200 }, channel: { type: 'string' } },
});

export interface SubscribeData {
  channel: string;
  auth?: string;
  channel_data?: string;
}

export const isSubscribeData = compileSchema<SubscribeData>({
  type: 'object',
  required: ['channel'],
  properties: { channel: CHANNEL_NAME, auth: { type: 'string' }, channel_data: { type: 'string' } },
});

export const isUnsubscribeData = compileSchema<{ channel: string }>({
  type: 'object',
  required: ['channel'],
  properties: { channel: { type: 'string' } },
});

export interface AuthBody {
  socket_id: string;
  channel_name: string;
}

export const isAuthBody = compileSchema<AuthBody>({
  type: 'object',
  required: ['socket_id', 'channel_name'],
  properties: { socket_id: { type: 'string', pattern: '^[0-9]+\\.[0-9]+$', maxLength: 64 }, channel_name: CHANNEL_NAME },
});

export interface JwtHeader {
  alg: string;
  typ?: string;
}

export const isJwtHeader = compileSchema<JwtHeader>({
  type: 'object',
  required: ['alg'],
  properties: { alg: { type: 'string' } },
});

export interface JwtClaims {
  uri: string;
  nonce: string;
  iat: number;
  exp: number;
  sub: string;
  bodyHash: string;
}

export const isJwtClaims = compileSchema<JwtClaims>({
  type: 'object',
  required: ['uri', 'nonce', 'iat', 'exp', 'sub', 'bodyHash'],
  properties: {
    uri: { type: 'string' },
    nonce: { type: 'string', minLength: 1, maxLength: 256 },
    iat: { type: 'number' },
    exp: { type: 'number' },
    sub: { type: 'string' },
    bodyHash: { type: 'string' },
  },
});
