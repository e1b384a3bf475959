// What the simulator answers to each client frame of the Pusher protocol v7: ping, subscribe
// (public channels free, private ones against the HMAC signature), unsubscribe, and client
// events, which a server-push stream like QuickPay's refuses [inferred].

import { authMatches, channelAuth, isPresenceChannel, isPublicChannel } from './channel-auth';
import type { PusherConn, PusherServer } from './pusher-server';
import { isClientFrame, isSubscribeData, isUnsubscribeData } from './schemas';

export interface ProtocolFaults {
  readonly stopPonging: boolean;
  readonly badSignature: boolean;
}

export interface ProtocolContext {
  appKey: string;
  appSecret: string;
  faults: ProtocolFaults;
  server: PusherServer;
  log(line: string): void;
}

export function handleClientFrame(conn: PusherConn, frame: unknown, ctx: ProtocolContext): void {
  if (!isClientFrame(frame)) {
    ctx.log(`connection ${conn.id}: frame dropped (${isClientFrame.explain()})`);
    return;
  }
  const { event } = frame;
  switch (event) {
    case 'pusher:ping':
      if (ctx.faults.stopPonging) ctx.log(`connection ${conn.id}: ping left unanswered (fault stopPonging)`);
      else ctx.server.send(conn, { event: 'pusher:pong', data: {} });
      return;
    case 'pusher:pong':
      return; // the server already counted it as activity
    case 'pusher:subscribe':
      subscribe(conn, dataOf(frame.data), ctx);
      return;
    case 'pusher:unsubscribe': {
      const data = dataOf(frame.data);
      if (isUnsubscribeData(data) && conn.channels.delete(data.channel)) ctx.log(`connection ${conn.id}: left ${data.channel}`);
      return;
    }
    default:
      if (event.startsWith('client-')) {
        // soketi answers a refused client event this way and keeps the connection [related: soketi].
        ctx.log(`connection ${conn.id}: client event ${event.slice(0, 60)} refused (4301)`);
        ctx.server.send(conn, {
          event: 'pusher:error',
          data: { message: 'Client events are not enabled on this stream', code: 4301 },
        });
        return;
      }
      ctx.log(`connection ${conn.id}: event ${event.slice(0, 60)} ignored`);
  }
}

function subscribe(conn: PusherConn, data: unknown, ctx: ProtocolContext): void {
  if (!isSubscribeData(data)) {
    // The protocol text does not say how a server answers a malformed subscribe [inferred].
    ctx.log(`connection ${conn.id}: subscribe refused (${isSubscribeData.explain()})`);
    ctx.server.send(conn, { event: 'pusher:error', data: { message: `Invalid subscribe request: ${isSubscribeData.explain()}`, code: null } });
    return;
  }
  const { channel } = data;
  const refuse = (status: number, error: string) => {
    ctx.log(`connection ${conn.id}: subscription to ${channel} refused (${error})`);
    ctx.server.send(conn, { event: 'pusher:subscription_error', channel, data: { type: 'AuthError', error, status } });
  };
  if (isPresenceChannel(channel)) return refuse(403, 'Presence channels are not available on this stream');
  if (!isPublicChannel(channel)) {
    const expected = channelAuth(ctx.appKey, ctx.appSecret, conn.socketId, channel);
    if (ctx.faults.badSignature || !authMatches(expected, data.auth)) return refuse(401, 'Invalid signature');
  }
  conn.channels.add(channel);
  ctx.log(`connection ${conn.id}: joined ${channel}`);
  ctx.server.send(conn, { event: 'pusher_internal:subscription_succeeded', channel, data: '{}' });
}

/** `data` is an object on the wire; a client that double-encodes it as a string is tolerated. */
function dataOf(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}
