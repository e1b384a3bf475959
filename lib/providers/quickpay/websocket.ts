// pusher-js's Node build opens its WebSocket with a bundled faye websocket-driver. That driver
// checks the UTF-8 of every text frame with a JavaScript regex (about 13 ms a megabyte on the
// 2-core test machine, against 2 ms for `ws`) and takes frames up to 64 MiB, so one big frame
// could hold the event loop for most of a second. The runtime pusher-js exposes as
// `Pusher.Runtime` names the WebSocket class it constructs (`getWebSocketAPI`); it is pointed at
// `ws`, already the pack's WebSocket, with the pack's frame limit (a bigger frame closes the socket
// from its header, and the stream reconnects). pusher-js's WebSocket transport uses only the
// browser-style API `ws` has: onopen, onmessage, onerror, onclose, send and close.
import Pusher from 'pusher-js';
import WebSocket from 'ws';
import { MAX_FRAME_BYTES } from '../../core/socket';

class BoundedWebSocket extends WebSocket {
  constructor(url: string) {
    super(url, { maxPayload: MAX_FRAME_BYTES });
  }
}

/**
 * Points pusher-js at `ws`, once per process. When a later pusher-js has no such hook the
 * bundled driver stays: slower on huge frames, nothing else changes.
 */
export function useBoundedWebSocket(): boolean {
  const runtime = (Pusher as unknown as { Runtime?: { getWebSocketAPI?: () => unknown } }).Runtime;
  if (!runtime || typeof runtime.getWebSocketAPI !== 'function') return false;
  runtime.getWebSocketAPI = () => BoundedWebSocket;
  return true;
}
