// Frames written to one socket in one tick leave in one write. The first write of a tick corks
// the socket and the end of the tick uncorks it, so the kernel gets one writev (and the network
// one segment, ws sets TCP_NODELAY) instead of one per frame. JSON-RPC peers answer several
// requests that arrived in one read in the same tick.
//
// The socket is the one ws upgraded: the ws client's documented 'upgrade' event hands over the
// http.IncomingMessage, whose `socket` is that connection. cork()/uncork() are net.Socket's
// (and tls.TLSSocket's) own public API; ws corks it itself around a frame's header and body,
// and the counts nest, so ws's inner uncork does not flush ours.

import type { Writable } from 'node:stream';

const corked = new WeakSet<Writable>();

/** Corks `socket` until the end of the current tick, unless it already is or cannot be written. */
export function corkForTick(socket: Writable | undefined): void {
  if (!socket || corked.has(socket) || socket.destroyed || !socket.writable) return;
  corked.add(socket);
  socket.cork();
  process.nextTick(() => {
    corked.delete(socket);
    socket.uncork();
  });
}
