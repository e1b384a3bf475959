// The Pusher private-channel signature [related: Pusher protocol]: the auth endpoint makes it,
// the socket server checks it. Both sides live here so they cannot drift apart.

import { createHmac, timingSafeEqual } from 'node:crypto';

export const isPresenceChannel = (name: string): boolean => name.startsWith('presence-');
export const isPrivateChannel = (name: string): boolean => name.startsWith('private-');
/** Channels anyone may join without an auth string. */
export const isPublicChannel = (name: string): boolean => !isPrivateChannel(name) && !isPresenceChannel(name);

/** `<appKey>:<hex HMAC-SHA256(appSecret, socket_id + ':' + channel)>` */
export function channelAuth(appKey: string, appSecret: string, socketId: string, channel: string): string {
  const signature = createHmac('sha256', appSecret).update(`${socketId}:${channel}`).digest('hex');
  return `${appKey}:${signature}`;
}

/** Compares the whole auth string (key part included) without leaking, by timing, how much matched. */
export function authMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
