// Frames written to one socket close together leave in one write, so the kernel gets one
// writev (and the network one segment, ws sets TCP_NODELAY) instead of one per frame. The
// sender says what it expects (SendTiming); the first write corks the socket and the uncork
// comes at one of two moments:
//
//   - the end of the tick (corkForTick): frames sent in one callback and its microtasks, such
//     as the requests that the results of one read release. Nothing waits longer than that.
//   - the end of this turn of the event loop (corkForTurn, a setImmediate): for answers sent
//     while the answers to other requests are still being built. Node-RED delivers every
//     message in a callback of its own, so answers coming out of flows never share a tick;
//     they do share the turn. The last answer outstanding is sent with corkForTick, so a lone
//     request never waits for the turn to end.
//
// A frame with nothing else in flight (one request at a time) is not corked at all: the cork
// and its uncork were a measurable part of such a round trip, with nothing to gather.
//
// The socket is the one ws upgraded: the ws client's documented 'upgrade' event hands over the
// http.IncomingMessage, whose `socket` is that connection. cork()/uncork() are net.Socket's
// (and tls.TLSSocket's) own public API; ws corks it itself around a frame's header and body,
// and the counts nest, so ws's inner uncork does not flush ours.

import type { Writable } from 'node:stream';

/**
 * `now`: nothing else is expected, write at once; `tick`: more frames may follow in this tick
 * (the default); `turn`: answers to other requests are still being built.
 */
export type SendTiming = 'now' | 'tick' | 'turn';

const corked = new WeakSet<Writable>();

function cork(socket: Writable | undefined, schedule: (uncork: () => void) => void): void {
  if (!socket || corked.has(socket) || socket.destroyed || !socket.writable) return;
  corked.add(socket);
  socket.cork();
  schedule(() => {
    corked.delete(socket);
    socket.uncork();
  });
}

const endOfTick = (uncork: () => void): void => process.nextTick(uncork);
const endOfTurn = (uncork: () => void): void => {
  setImmediate(uncork);
};

/** Corks `socket` until the end of the current tick, unless it already is or cannot be written. */
export function corkForTick(socket: Writable | undefined): void {
  cork(socket, endOfTick);
}

/** Corks `socket` until the end of this turn of the event loop, unless it already is or cannot be written. */
export function corkForTurn(socket: Writable | undefined): void {
  cork(socket, endOfTurn);
}
