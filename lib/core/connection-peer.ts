// The side of a JSON-RPC link that answers requests (an EPoS API the provider calls over our
// outbound socket) keeps one peer per connection: an answer never leaves on a later connection
// than the one its request came on, and when a connection closes its peer is closed with it
// (whatever it had pending fails as closed). Every adapter socket that answers a provider's
// requests works this way.

import { JsonRpcPeer } from './jsonrpc';
import type { ReconnectingSocket } from './socket';
import type { SendTiming } from './write-cork';

export class ConnectionPeer {
  private peer: JsonRpcPeer | undefined;

  /**
   * `make` builds the peer of a new connection around the `send` it is given; `onOpen` and
   * `onClose` run after the peer is made and after it is closed.
   */
  constructor(
    socket: ReconnectingSocket,
    make: (send: (text: string, timing?: SendTiming) => boolean) => JsonRpcPeer,
    hooks: { onOpen?: () => void; onClose?: () => void } = {},
  ) {
    socket.on('open', () => {
      this.close();
      const peer: JsonRpcPeer = make((text, timing) => this.peer === peer && socket.send(text, timing));
      this.peer = peer;
      hooks.onOpen?.();
    });
    socket.on('message', (text: string) => this.peer?.receive(text));
    socket.on('close', () => {
      this.close();
      hooks.onClose?.();
    });
  }

  /** The open connection's peer; undefined while there is none. */
  get current(): JsonRpcPeer | undefined {
    return this.peer;
  }

  close(): void {
    const peer = this.peer;
    this.peer = undefined;
    peer?.close();
  }
}
