// A Socket.IO frame over 16 MiB closes the SensePass socket and the socket reconnects (issue
// 14): socket.io-client v4 hands maxPayload to ws for its WebSocket transport. A plain
// socket.io server on 127.0.0.1, WebSocket transport only.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { MAX_FRAME_BYTES } from '../../lib/core/socket';
import { SensePassSocket } from '../../lib/providers/sensepass/socket';
import { until } from '../support/until';



describe('sensepass socket: frame size limit', function () {
  this.timeout(30_000);

  it('a 16 MiB + 1 message closes the socket, which reconnects; a normal message still arrives', async () => {
    const httpServer = http.createServer();
    const io = new Server(httpServer, { path: '/socket.io', transports: ['websocket'] });
    let connections = 0;
    io.on('connection', () => { connections += 1; });
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    const port = (httpServer.address() as AddressInfo).port;
    const messages: unknown[] = [];
    const socket = new SensePassSocket({
      endpoint: () => ({ origin: `http://127.0.0.1:${port}`, path: '/socket.io' }),
      deviceId: 'dev_limit_1', redact: (t) => t, transports: 'websocket', backoff: { initialMs: 20, maxMs: 100 },
    });
    socket.on('message', (m) => messages.push(m));
    try {
      socket.start();
      await until(() => connections === 1 && socket.state.name === 'connected', 'the first connection', 10_000);
      io.emit('message', 'x'.repeat(MAX_FRAME_BYTES + 1));
      await until(() => connections === 2 && socket.state.name === 'connected', 'a second connection', 10_000);
      assert.equal(messages.length, 0, 'the huge message was not delivered');
      io.emit('message', { hello: 1 });
      await until(() => messages.length === 1, 'the normal message', 10_000);
      assert.deepEqual(messages[0], { hello: 1 });
    } finally {
      await socket.stop();
      io.close();
      httpServer.closeAllConnections();
      await new Promise((r) => httpServer.close(() => r(undefined)));
    }
  });
});
