import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer, type ServerOptions } from 'ws';
import { ReconnectingSocket, defaultRedact, type SocketOptions, type CloseInfo } from '../../lib/core/socket';
import type { ConnectionState, Logger } from '../../lib/core/types';

// Everything runs against real servers on 127.0.0.1 with short timings; every wait is bounded.

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

const countResources = (kind: string) => process.getActiveResourcesInfo().filter((r) => r === kind).length;

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  // Sockets first (they were created last), then servers.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface WsFixture {
  wss: WebSocketServer;
  url: string;
  port: number;
  connections: WebSocket[];
}

async function wsServer(options: ServerOptions = {}, onConnection?: (ws: WebSocket, n: number) => void): Promise<WsFixture> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
  const connections: WebSocket[] = [];
  wss.on('connection', (ws) => {
    connections.push(ws);
    ws.on('error', () => {});
    onConnection?.(ws, connections.length);
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  );
  const port = (wss.address() as AddressInfo).port;
  return { wss, url: `ws://127.0.0.1:${port}/`, port, connections };
}

/** A TCP server that accepts connections and never says anything (never answers the upgrade). */
async function silentTcpServer(): Promise<{ url: string; accepted: net.Socket[]; closed: () => number }> {
  const accepted: net.Socket[] = [];
  let closed = 0;
  const server = net.createServer((s) => {
    accepted.push(s);
    s.on('error', () => {});
    s.resume(); // read and discard the upgrade request, so the peer's FIN is noticed
    s.on('close', () => closed++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of accepted) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, accepted, closed: () => closed };
}

/** An HTTP server whose upgrade handler refuses with the given status line. */
async function refusingServer(statusLine: string): Promise<{ url: string; attempts: () => number; lastUrl: () => string }> {
  let attempts = 0;
  let lastUrl = '';
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket) => {
    attempts++;
    lastUrl = req.url ?? '';
    socket.on('error', () => {});
    socket.end(`HTTP/1.1 ${statusLine}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, attempts: () => attempts, lastUrl: () => lastUrl };
}

interface Harness {
  sock: ReconnectingSocket;
  states: ConnectionState[];
  messages: string[];
  closes: CloseInfo[];
  lines: string[];
  last: () => ConnectionState;
  waitState: (name: ConnectionState['name'], timeoutMs?: number, after?: number) => Promise<ConnectionState>;
}

function makeSocket(options: Partial<SocketOptions> & { url: () => string }): Harness {
  const lines: string[] = [];
  const logger: Logger = {
    debug: (m) => lines.push(`debug ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
  const sock = new ReconnectingSocket({
    handshakeTimeoutMs: 1000,
    heartbeatIntervalMs: 0,
    stableMs: 5000,
    backoff: { initialMs: 20, maxMs: 500, jitter: 0 },
    logger,
    ...options,
  });
  const states: ConnectionState[] = [];
  const messages: string[] = [];
  const closes: CloseInfo[] = [];
  sock.on('state', (s) => states.push(s));
  sock.on('message', (m) => messages.push(m));
  sock.on('close', (c) => closes.push(c));
  cleanups.push(() => sock.stop());
  const waitState = async (name: ConnectionState['name'], timeoutMs = 2000, after = 0) => {
    let found: ConnectionState | undefined;
    await waitFor(`state ${name} (seen: ${states.map((s) => s.name).join(',')})`, () => {
      found = states.slice(after).find((s) => s.name === name);
      return found !== undefined;
    }, timeoutMs);
    return found!;
  };
  return { sock, states, messages, closes, lines, last: () => states[states.length - 1], waitState };
}

const reconnectings = (states: ConnectionState[]) =>
  states.filter((s): s is Extract<ConnectionState, { name: 'reconnecting' }> => s.name === 'reconnecting');

describe('ReconnectingSocket', () => {
  it('connects and carries text both ways; binary frames arrive as UTF-8 text', async () => {
    const srv = await wsServer({}, (ws) => {
      ws.on('message', (data) => ws.send(`echo:${data.toString()}`));
      ws.send(Buffer.from('bînary', 'utf8'), { binary: true });
    });
    const h = makeSocket({ url: () => srv.url });
    assert.equal(h.sock.state.name, 'idle');
    assert.equal(h.sock.send('too early'), false);
    const opened = new Promise<void>((resolve) => h.sock.once('open', () => resolve()));
    h.sock.start();
    h.sock.start(); // idempotent
    await opened;
    assert.deepEqual(h.states.map((s) => s.name), ['connecting', 'connected']);
    assert.deepEqual(h.states[0], { name: 'connecting', attempt: 0 });
    assert.equal(h.sock.isOpen(), true);
    assert.equal(h.sock.send('hello'), true);
    await waitFor('two messages', () => h.messages.length >= 2);
    assert.deepEqual(h.messages, ['bînary', 'echo:hello']);
    assert.equal(srv.connections.length, 1);
  });

  it('reconnects after the server closes, with growing delays, and then stays connected', async () => {
    const srv = await wsServer({}, (ws, n) => {
      if (n <= 3) ws.close(1011, 'try again');
    });
    const h = makeSocket({ url: () => srv.url });
    h.sock.start();
    await waitFor('fourth connection', () => srv.connections.length === 4);
    await waitFor('connected after 3 drops', () => h.last().name === 'connected');
    const retries = reconnectings(h.states);
    assert.deepEqual(retries.map((s) => s.attempt), [1, 2, 3]);
    assert.deepEqual(retries.map((s) => s.delayMs), [20, 40, 80]);
    assert.match(retries[0].reason, /closed by server \(1011 try again\)/);
    assert.deepEqual(h.states.filter((s) => s.name === 'connecting').map((s) => (s as { attempt: number }).attempt), [0, 1, 2, 3]);
    assert.equal(h.closes.length, 3);
    assert.ok(h.closes.every((c) => c.code === 1011 && c.reason === 'try again' && c.willRetry));
  });

  it('resets the backoff only after the connection stayed open for stableMs', async () => {
    // Connections 1 and 2 drop quickly (delays keep growing); 3 stays past stableMs, then drops.
    const srv = await wsServer({}, (ws, n) => {
      setTimeout(() => ws.close(1001, 'bye'), n <= 2 ? 20 : 250);
    });
    const h = makeSocket({ url: () => srv.url, stableMs: 150 });
    h.sock.start();
    await waitFor('three drops', () => reconnectings(h.states).length >= 3, 3000);
    assert.deepEqual(reconnectings(h.states).slice(0, 3).map((s) => s.delayMs), [20, 40, 20]);
    assert.deepEqual(reconnectings(h.states).slice(0, 3).map((s) => s.attempt), [1, 2, 1]);
  });

  it('kills a socket whose upgrade never completes within the handshake timeout, then retries', async () => {
    const srv = await silentTcpServer();
    const h = makeSocket({ url: () => srv.url, handshakeTimeoutMs: 150, backoff: { initialMs: 50, jitter: 0 } });
    const t0 = Date.now();
    h.sock.start();
    const r = await h.waitState('reconnecting', 1000);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 140 && elapsed < 400, `timed out after ${elapsed} ms`);
    assert.match((r as { reason: string }).reason, /handshake timed out after 150 ms/);
    await waitFor('server side sees the socket closed', () => srv.closed() >= 1, 500);
    await waitFor('a second attempt', () => srv.accepted.length >= 2, 1000);
  });

  it('detects a half-open socket with the heartbeat and reconnects', async () => {
    // autoPong false + a server that never sends: from the client's view the peer is gone.
    const srv = await wsServer({ autoPong: false });
    const h = makeSocket({ url: () => srv.url, heartbeatIntervalMs: 100, backoff: { initialMs: 1000, jitter: 0 } });
    h.sock.start();
    await h.waitState('connected');
    const t0 = Date.now();
    const r = await h.waitState('reconnecting', 1000);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < 300, `half-open socket noticed only after ${elapsed} ms`);
    assert.match((r as { reason: string }).reason, /half-open/);
    assert.equal(h.closes.length, 1);
    assert.equal(h.closes[0].willRetry, true);
    await waitFor('server side closed', () => srv.connections[0].readyState === WebSocket.CLOSED, 1000);
  });

  it('keeps a live connection: the server answers pings, nothing is dropped', async () => {
    const srv = await wsServer();
    const h = makeSocket({ url: () => srv.url, heartbeatIntervalMs: 50 });
    h.sock.start();
    await h.waitState('connected');
    await sleep(400);
    assert.deepEqual(h.states.map((s) => s.name), ['connecting', 'connected']);
    assert.equal(srv.connections.length, 1);
  });

  it('answers server pings (the server sees pongs) and counts them as liveness', async () => {
    let pongs = 0;
    const srv = await wsServer({}, (ws) => {
      ws.on('pong', () => pongs++);
    });
    const h = makeSocket({ url: () => srv.url });
    h.sock.start();
    await h.waitState('connected');
    await waitFor('server connection', () => srv.connections.length === 1);
    srv.connections[0].ping();
    srv.connections[0].ping();
    await waitFor('two pongs', () => pongs === 2, 1000);
  });

  it('treats server pings as liveness even when the server never answers our pings', async () => {
    // The server does not pong, but pings us every 40 ms: that traffic alone proves it is alive.
    let timer: NodeJS.Timeout | undefined;
    const srv = await wsServer({ autoPong: false }, (ws) => {
      timer = setInterval(() => ws.ping(), 40);
      ws.on('close', () => clearInterval(timer));
    });
    cleanups.push(() => clearInterval(timer));
    const h = makeSocket({ url: () => srv.url, heartbeatIntervalMs: 100 });
    h.sock.start();
    await h.waitState('connected');
    await sleep(450);
    assert.equal(h.last().name, 'connected');
  });

  it('HTTP 401 on upgrade: unauthorized, and exactly one attempt (no reconnect storm)', async () => {
    const srv = await refusingServer('401 Unauthorized');
    const h = makeSocket({ url: () => srv.url });
    h.sock.start();
    const s = await h.waitState('unauthorized');
    assert.match((s as { reason: string }).reason, /HTTP 401/);
    await sleep(500); // 25x the first backoff delay
    assert.equal(srv.attempts(), 1);
    assert.equal(h.sock.state.name, 'unauthorized');
    assert.equal(reconnectings(h.states).length, 0);
    assert.equal(h.closes.length, 0, "'close' pairs with 'open'; this attempt never opened");
  });

  it('HTTP 403 on upgrade is unauthorized too; other statuses are retried', async () => {
    const forbidden = await refusingServer('403 Forbidden');
    const h1 = makeSocket({ url: () => forbidden.url });
    h1.sock.start();
    await h1.waitState('unauthorized');

    const unavailable = await refusingServer('503 Service Unavailable');
    const h2 = makeSocket({ url: () => unavailable.url });
    h2.sock.start();
    await waitFor('three attempts', () => unavailable.attempts() >= 3);
    assert.match((reconnectings(h2.states)[0] as { reason: string }).reason, /HTTP 503/);
  });

  it('close code 1008 from the server: unauthorized, no retry', async () => {
    const srv = await wsServer({}, (ws) => ws.close(1008, 'bad token'));
    const h = makeSocket({ url: () => srv.url });
    h.sock.start();
    const s = await h.waitState('unauthorized');
    assert.match((s as { reason: string }).reason, /1008 bad token/);
    await sleep(300);
    assert.equal(srv.connections.length, 1);
    assert.deepEqual(h.closes, [{ code: 1008, reason: 'bad token', willRetry: false }]);
  });

  it('a custom classifyFailure can report displaced', async () => {
    const srv = await wsServer({}, (ws) => ws.close(4000, 'another client connected'));
    const h = makeSocket({
      url: () => srv.url,
      classifyFailure: (f) => (f.closeCode === 4000 ? 'displaced' : 'retry'),
    });
    h.sock.start();
    const s = await h.waitState('displaced');
    assert.match((s as { reason: string }).reason, /another client connected/);
    await sleep(300);
    assert.equal(srv.connections.length, 1);
  });

  it("halt('displaced') closes the socket and stops retrying until start() is called again", async () => {
    const srv = await wsServer();
    const h = makeSocket({ url: () => srv.url });
    h.sock.start();
    await h.waitState('connected');
    h.sock.halt('displaced', 'terminal taken over by another POS');
    assert.deepEqual(h.sock.state, { name: 'displaced', reason: 'terminal taken over by another POS' });
    assert.equal(h.sock.isOpen(), false);
    assert.equal(h.sock.send('x'), false);
    await waitFor('client close event', () => h.closes.length === 1);
    assert.equal(h.closes[0].willRetry, false);
    assert.equal(h.closes[0].code, 1000);
    await sleep(300);
    assert.equal(srv.connections.length, 1);
    assert.equal(h.sock.state.name, 'displaced');

    h.sock.start();
    await waitFor('reconnected after start()', () => h.last().name === 'connected');
    assert.equal(srv.connections.length, 2);
  });

  it('halt() while waiting to retry cancels the retry', async () => {
    const srv = await refusingServer('500 Internal Server Error');
    const h = makeSocket({ url: () => srv.url, backoff: { initialMs: 200, jitter: 0 } });
    h.sock.start();
    await h.waitState('reconnecting');
    h.sock.halt('error', 'gave up');
    await sleep(400);
    assert.equal(srv.attempts(), 1);
    assert.deepEqual(h.sock.state, { name: 'error', reason: 'gave up' });
  });

  it('reconnectNow() drops the connection and reconnects through the backoff path', async () => {
    const srv = await wsServer();
    const h = makeSocket({ url: () => srv.url });
    h.sock.start();
    await h.waitState('connected');
    h.sock.reconnectNow('application ping unanswered');
    const r = await h.waitState('reconnecting');
    assert.equal((r as { reason: string }).reason, 'application ping unanswered');
    await waitFor('reconnected', () => h.last().name === 'connected' && srv.connections.length === 2);
  });

  it('connection refused is retried and never thrown', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const h = makeSocket({ url: () => `ws://127.0.0.1:${port}/` });
    h.sock.start();
    await waitFor('three retries', () => reconnectings(h.states).length >= 3);
    assert.match(reconnectings(h.states)[0].reason, /ECONNREFUSED/);
  });

  it('an invalid URL is an error state, not a retry loop', async () => {
    const h = makeSocket({ url: () => 'not a url' });
    h.sock.start();
    assert.equal(h.sock.state.name, 'error');
    await sleep(100);
    assert.deepEqual(h.states.map((s) => s.name), ['connecting', 'error']);
  });

  it('a throwing listener does not break the socket', async () => {
    const srv = await wsServer({}, (ws) => {
      ws.send('one');
      ws.send('two');
    });
    const h = makeSocket({ url: () => srv.url });
    h.sock.on('message', () => {
      throw new Error('flow bug');
    });
    h.sock.start();
    await waitFor('both messages', () => h.messages.length === 2);
    assert.equal(h.sock.state.name, 'connected');
    assert.ok(h.lines.some((l) => /'message' listener threw: flow bug/.test(l)));
  });

  describe('stop()', () => {
    it('resolves quickly mid-handshake and leaves no timers and no sockets', async () => {
      const srv = await silentTcpServer();
      const timersBefore = countResources('Timeout');
      const socketsBefore = countResources('TCPSocketWrap');
      const h = makeSocket({ url: () => srv.url, handshakeTimeoutMs: 5000, heartbeatIntervalMs: 100 });
      h.sock.start();
      await waitFor('server accepted', () => srv.accepted.length === 1);
      const t0 = Date.now();
      await h.sock.stop();
      assert.ok(Date.now() - t0 < 2000);
      assert.equal(h.sock.state.name, 'closed');
      assert.equal(countResources('Timeout'), timersBefore);
      await waitFor('sockets released', () => countResources('TCPSocketWrap') === socketsBefore, 1000);
      await sleep(100);
      assert.equal(srv.accepted.length, 1, 'no retry after stop');
    });

    it('closes an open connection with 1000 and removes only its own listeners', async () => {
      let serverCloseCode = 0;
      const srv = await wsServer({}, (ws) => ws.on('close', (code) => (serverCloseCode = code)));
      const timersBefore = countResources('Timeout');
      const socketsBefore = countResources('TCPSocketWrap');
      const h = makeSocket({ url: () => srv.url, heartbeatIntervalMs: 100, stableMs: 5000 });
      h.sock.start();
      await h.waitState('connected');
      // White-box: the ws object is private; a listener someone else added must survive stop().
      const ws = (h.sock as unknown as { attempt: { ws: WebSocket } }).attempt.ws;
      const foreign = () => {};
      const events = ['open', 'message', 'ping', 'pong', 'error', 'unexpected-response', 'close'];
      for (const e of events) ws.on(e, foreign);
      const t0 = Date.now();
      await h.sock.stop();
      assert.ok(Date.now() - t0 < 2000);
      assert.equal(h.sock.state.name, 'closed');
      for (const e of events) assert.deepEqual(ws.listeners(e), [foreign], `listeners left on '${e}'`);
      assert.deepEqual(h.closes, [{ code: 1000, reason: '', willRetry: false }]);
      await waitFor('server saw 1000', () => serverCloseCode === 1000, 1000);
      await waitFor('timers released', () => countResources('Timeout') === timersBefore, 1000);
      await waitFor('sockets released', () => countResources('TCPSocketWrap') === socketsBefore, 1000);
      await h.sock.stop(); // a second stop is harmless
      assert.equal(h.states.filter((s) => s.name === 'closed').length, 1);
    });

    it('terminates after the grace period when the server never answers the close', async () => {
      const srv = await wsServer({}, (ws) => {
        // Stop reading: the close frame is never processed, so it is never answered.
        (ws as unknown as { _socket: net.Socket })._socket.pause();
      });
      const timersBefore = countResources('Timeout');
      const h = makeSocket({ url: () => srv.url });
      h.sock.start();
      await h.waitState('connected');
      const t0 = Date.now();
      await h.sock.stop();
      const elapsed = Date.now() - t0;
      assert.ok(elapsed >= 900 && elapsed < 2000, `stop took ${elapsed} ms`);
      assert.equal(h.sock.state.name, 'closed');
      assert.equal(countResources('Timeout'), timersBefore);
    });

    it('cancels a pending retry and leaves no timers', async () => {
      const srv = await refusingServer('502 Bad Gateway');
      const timersBefore = countResources('Timeout');
      const h = makeSocket({ url: () => srv.url, backoff: { initialMs: 300, jitter: 0 } });
      h.sock.start();
      await h.waitState('reconnecting');
      await h.sock.stop();
      assert.equal(countResources('Timeout'), timersBefore);
      await sleep(400);
      assert.equal(srv.attempts(), 1);
      assert.equal(h.sock.state.name, 'closed');
    });

    it('the socket can be started again after stop()', async () => {
      const srv = await wsServer();
      const h = makeSocket({ url: () => srv.url });
      h.sock.start();
      await h.waitState('connected');
      await h.sock.stop();
      h.sock.start();
      await waitFor('connected again', () => h.last().name === 'connected');
      assert.equal(srv.connections.length, 2);
    });
  });

  describe('redaction', () => {
    const SECRET = 'SECRET-8f3a';

    function allText(h: Harness): string {
      const reasons = h.states.map((s) => ('reason' in s ? s.reason : ''));
      return [...h.lines, ...reasons, ...h.closes.map((c) => c.reason)].join('\n');
    }

    it('never logs or reports a token carried in the URL (default redact)', async () => {
      const refused = await refusingServer('500 Internal Server Error');
      const h1 = makeSocket({ url: () => `${refused.url}?token=${SECRET}` });
      h1.sock.start();
      await waitFor('two retries', () => reconnectings(h1.states).length >= 2);
      assert.ok(refused.lastUrl().includes(SECRET), 'the server did receive the token');

      const silent = await silentTcpServer();
      const h2 = makeSocket({ url: () => `${silent.url}?token=${SECRET}`, handshakeTimeoutMs: 50 });
      h2.sock.start();
      await h2.waitState('reconnecting');

      const h3 = makeSocket({ url: () => `ws://bad host/?token=${SECRET}` });
      h3.sock.start();
      assert.equal(h3.sock.state.name, 'error');

      const h4 = makeSocket({ url: () => `ws://user:${SECRET}@127.0.0.1:1/` });
      h4.sock.start();
      await h4.waitState('reconnecting');

      for (const h of [h1, h2, h3, h4]) {
        const text = allText(h);
        assert.ok(h.lines.length > 0);
        assert.ok(!text.includes(SECRET), `secret leaked:\n${text}`);
      }
      assert.ok(h1.lines.some((l) => l.includes('token=***')), h1.lines.join('\n'));
    });

    it('applies a custom redact function to log lines and state reasons', async () => {
      const srv = await wsServer({}, (ws) => ws.close(1008, `token ${SECRET} revoked`));
      const redact = (t: string) => t.split(SECRET).join('[redacted]');
      const h = makeSocket({ url: () => `${srv.url}?token=${SECRET}`, redact });
      h.sock.start();
      const s = await h.waitState('unauthorized');
      assert.equal((s as { reason: string }).reason, 'closed by server (1008 token [redacted] revoked)');
      assert.ok(h.lines.some((l) => l.includes('?token=[redacted]')));
      h.sock.halt('error', `refused ${SECRET}`);
      const text = allText(h);
      assert.ok(!text.includes(SECRET), `secret leaked:\n${text}`);
      assert.ok(h.closes.length === 1 && h.closes[0].reason === 'token [redacted] revoked');
    });

    it('defaultRedact masks query values and user-info', () => {
      assert.equal(
        defaultRedact('wss://u:p@host/path?token=abc&x=1#k=v'),
        'wss://***@host/path?token=***&x=***#k=***',
      );
      assert.equal(defaultRedact('connect ECONNREFUSED 127.0.0.1:8080'), 'connect ECONNREFUSED 127.0.0.1:8080');
    });
  });
});
