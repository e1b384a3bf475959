// Frames a ReconnectingSocket sends close together leave in one write (issue 14): the upgraded
// socket is corked for the rest of the tick, or, for answers sent while others are still being
// built, for the rest of the turn of the event loop. Counted at the client's own net.Socket through
// its Writable implementation hooks (_write for one chunk, _writev for several).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { JsonRpcPeer, type RequestHandler } from '../../lib/core/jsonrpc';
import { ReconnectingSocket } from '../../lib/core/socket';
import { corkForTick, corkForTurn } from '../../lib/core/write-cork';

type WriteHook = (this: net.Socket, ...args: unknown[]) => unknown;

/** Counts the writes of client sockets connected to `port` while installed. */
function countWrites(port: number) {
  const proto = net.Socket.prototype as unknown as { _write: WriteHook; _writev: WriteHook };
  const original = { _write: proto._write, _writev: proto._writev };
  const counts = { write: 0, writev: 0, chunksInWritev: 0 };
  proto._write = function (this: net.Socket, ...args: unknown[]) {
    if (this.remotePort === port) counts.write += 1;
    return original._write.apply(this, args);
  };
  proto._writev = function (this: net.Socket, ...args: unknown[]) {
    if (this.remotePort === port) {
      counts.writev += 1;
      counts.chunksInWritev += (args[0] as unknown[]).length;
    }
    return original._writev.apply(this, args);
  };
  return { counts, restore: () => Object.assign(proto, original) };
}

async function rig() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const port = (wss.address() as AddressInfo).port;
  const received: string[] = [];
  let server: WebSocket | undefined;
  let serverSocket: net.Socket | undefined;
  wss.on('connection', (ws, req) => {
    server = ws;
    serverSocket = req.socket as net.Socket;
    ws.on('message', (d) => received.push(d.toString()));
  });
  const socket = new ReconnectingSocket({ url: () => `ws://127.0.0.1:${port}`, heartbeatIntervalMs: 0 });
  socket.start();
  const until = Date.now() + 5000;
  while (!socket.isOpen() || !server) {
    if (Date.now() > until) throw new Error('not connected');
    await new Promise((r) => setTimeout(r, 5));
  }
  return {
    port, socket, received, server: () => server!, serverSocket: () => serverSocket!,
    close: async () => {
      await socket.stop();
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(() => r(undefined)));
    },
  };
}

const waitFor = async (check: () => boolean, what: string) => {
  const until = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** Ten requests in one server write to a peer answering with `handler`: the ids answered, in order, and the client's writes. */
async function answerTen(handler: RequestHandler) {
  const r = await rig();
  const peer = new JsonRpcPeer({ send: (t, timing) => r.socket.send(t, timing) });
  peer.handle('m', handler);
  r.socket.on('message', (text: string) => peer.receive(text));
  const answers: string[] = [];
  r.server().on('message', (d) => answers.push(d.toString()));
  const spy = countWrites(r.port);
  try {
    r.serverSocket().cork();
    for (let i = 0; i < 10; i++) r.server().send(JSON.stringify({ jsonrpc: '2.0', id: i, method: 'm', params: [i] }));
    r.serverSocket().uncork();
    await waitFor(() => answers.length === 10, '10 answers');
    return { ids: answers.map((a) => JSON.parse(a).id as number), writes: spy.counts.write + spy.counts.writev, counts: { ...spy.counts } };
  } finally {
    spy.restore();
    peer.close();
    await r.close();
  }
}

describe('write coalescing', () => {
  it('20 frames sent in one tick leave in one writev, in order', async () => {
    const r = await rig();
    const spy = countWrites(r.port);
    try {
      for (let i = 0; i < 20; i++) assert.equal(r.socket.send(`{"n":${i}}`), true);
      await waitFor(() => r.received.length === 20, '20 frames');
      assert.deepEqual(r.received, Array.from({ length: 20 }, (_, i) => `{"n":${i}}`));
      assert.equal(spy.counts.write + spy.counts.writev, 1, JSON.stringify(spy.counts));
      assert.equal(spy.counts.chunksInWritev, 40, 'a header and a body per frame, all in the one writev');
    } finally {
      spy.restore();
      await r.close();
    }
  });

  it('frames sent in separate ticks are not held back: each leaves in its own tick', async () => {
    const r = await rig();
    const spy = countWrites(r.port);
    try {
      for (let i = 0; i < 5; i++) {
        r.socket.send(`{"n":${i}}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await waitFor(() => r.received.length === 5, '5 frames');
      assert.equal(spy.counts.write + spy.counts.writev, 5, JSON.stringify(spy.counts));
    } finally {
      spy.restore();
      await r.close();
    }
  });

  it('a JSON-RPC peer answering a read of 10 requests answers them in one write', async () => {
    // Ten frames in one server write: the client reads them together and answers in one tick.
    const { ids, writes, counts } = await answerTen((params) => params);
    assert.deepEqual(ids, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.ok(writes <= 2, JSON.stringify(counts));
  });

  it('answers a peer builds in separate callbacks (as flows answer) while others still run share one write', async () => {
    // Each answer is made in a callback of its own, as Node-RED delivers every message.
    const { ids, writes, counts } = await answerTen((params) => new Promise((resolve) => setImmediate(() => resolve(params))));
    assert.deepEqual(ids, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // One tick each would be 10 writes.
    assert.ok(writes <= 2, JSON.stringify(counts));
  });

  it('a lone answer made later is written at the end of its tick, not held for the turn', async () => {
    const r = await rig();
    const peer = new JsonRpcPeer({ send: (t, timing) => r.socket.send(t, timing) });
    let writesSeenNextTurn = -1;
    const spy = countWrites(r.port);
    peer.handle('later', () => new Promise((resolve) => setImmediate(() => {
      resolve('ok');
      // Queued before anything the answer could queue: it runs first in the next turn.
      setImmediate(() => { writesSeenNextTurn = spy.counts.write + spy.counts.writev; });
    })));
    r.socket.on('message', (text: string) => peer.receive(text));
    try {
      r.server().send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'later' }));
      await waitFor(() => writesSeenNextTurn !== -1, 'the next turn');
      assert.equal(writesSeenNextTurn, 1);
    } finally {
      spy.restore();
      peer.close();
      await r.close();
    }
  });

  it('a request with nothing else in flight is written at once; requests sent while others are pending wait for the tick', async () => {
    const r = await rig();
    const peer = new JsonRpcPeer({ send: (t, timing) => r.socket.send(t, timing) });
    const spy = countWrites(r.port);
    const writes = () => spy.counts.write + spy.counts.writev;
    try {
      // The server never answers: all three stay pending until the peer closes.
      const pending = [peer.request('a')];
      assert.equal(writes(), 1, 'the lone request left inside send()');
      pending.push(peer.request('b'), peer.request('c'));
      assert.equal(writes(), 1, 'the other two wait for the end of the tick');
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(writes(), 2, 'the other two left together at the end of the tick');
      peer.close();
      for (const p of pending) await p.catch(() => undefined);
    } finally {
      spy.restore();
      peer.close();
      await r.close();
    }
  });

  it('corkForTick and corkForTurn leave a destroyed or missing socket alone', () => {
    for (const cork of [corkForTick, corkForTurn]) {
      assert.doesNotThrow(() => cork(undefined));
      const s = new net.Socket();
      s.destroy();
      assert.doesNotThrow(() => cork(s));
      assert.equal(s.writableCorked, 0);
    }
  });
});
