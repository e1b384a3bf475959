// Huge inbound frames of many shapes, sent on 127.0.0.1 to every adapter (plain `ws` servers for
// Paymentsense, Modulus and Dojo's EPOS socket; the QuickPay and SensePass simulators, which speak
// Pusher and Socket.IO, for the other two) and to a bare `ws` client that only JSON.parses them;
// the longest event-loop gap while each frame is handled is measured the same way for both.
// Shared by test/unit/frame-fuzz.test.ts (ratios) and bench/frame-gap.ts (absolute figures).

import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import type { Logger, NotificationEvent } from '../../lib/core/types';
import type { InboundRequest } from '../../lib/core/inbound';
import { EposServer } from '../../lib/providers/dojo/epos-server';
import { ModulusProvider } from '../../lib/providers/modulus/client';
import { PaymentsenseProvider } from '../../lib/providers/paymentsense/client';
import { QuickPayProvider } from '../../lib/providers/quickpay/client';
import { SensePassProvider } from '../../lib/providers/sensepass/client';
import { QuickPaySimulator, SIMULATOR_API_KEY, SIMULATOR_APP_KEY, SIMULATOR_MERCHANT_ID, simulatorKeys } from '../../lib/simulators/quickpay';
import { SensePassSimulator } from '../../lib/simulators/sensepass/simulator';

export const MB = 1 << 20;

/** One shape of value, as JSON text (not parsed here, so building it costs no parse). */
export interface Shape {
  name: string;
  /** A JSON value of about `size` characters (`notJson`: any text). */
  json: string;
  /** True when `json` is a string value (it then also goes where event names are made). */
  isString: boolean;
  /** Not JSON at all: sent as the whole frame. */
  notJson?: boolean;
}

export function shapes(size = MB): Shape[] {
  const str = (s: string): Shape['json'] => JSON.stringify(s);
  const control = Array.from({ length: size }, (_, i) => String.fromCharCode(i % 32)).join('');
  const keys: string[] = [];
  for (let i = 0; i < 60_000; i++) keys.push(`"k${i}":${i}`);
  const numbers: string[] = [];
  for (let i = 0; i < 200_000; i++) numbers.push(String(i * 1.5));
  const depth = Math.floor(size / 2);
  return [
    { name: 'capitals', json: str('A'.repeat(size)), isString: true },
    { name: 'alternating case', json: str('aA'.repeat(size / 2)), isString: true },
    { name: 'underscores', json: str('_'.repeat(size)), isString: true },
    { name: 'capitals and dashes', json: str('AB-'.repeat(Math.floor(size / 3))), isString: true },
    { name: 'separators ?;', json: str('?;'.repeat(size / 2)), isString: true },
    { name: 'control characters', json: str(control), isString: true },
    { name: 'deep nesting', json: '['.repeat(depth) + ']'.repeat(depth), isString: false },
    { name: '60,000 keys', json: `{${keys.join(',')}}`, isString: false },
    { name: '200,000 numbers', json: `[${numbers.join(',')}]`, isString: false },
    { name: 'not JSON', json: `{"jsonrpc":"2.0","method":${'x'.repeat(size)}`, isString: false, notJson: true },
  ];
}

/** The frames one shape becomes for a provider: the value in each place the adapter reads. */
export function paymentsenseFrames(s: Shape): string[] {
  if (s.notJson) return [s.json];
  const frames = [
    `{"jsonrpc":"2.0","method":"transactionNotification","params":{"tid":"T1","notification":${s.isString ? s.json : '"PRESENT_CARD"'},"extra":${s.json}}}`,
    `{"jsonrpc":"2.0","id":7,"method":"anything","params":{"value":${s.json}}}`,
  ];
  if (s.isString) frames.push(`{"jsonrpc":"2.0","id":8,"method":${s.json}}`, `{"jsonrpc":"2.0","method":${s.json},"params":{}}`);
  // A top-level array is a JSON-RPC batch.
  if (s.json.startsWith('[')) frames.push(s.json);
  else frames.push(`{"jsonrpc":"2.0","id":9,"result":${s.json}}`);
  return frames;
}

export function modulusFrames(s: Shape): string[] {
  if (s.notJson) return [s.json];
  const frames = [
    `{"action":"terminalStatusUpdate","terminalId":"TERM-001","status":${s.isString ? s.json : '"connected"'},"extra":${s.json}}`,
    `{"action":"paymentComplete","terminalId":"TERM-001","paymentResponse":{"transactionId":"nobody","status":"SUCCESS","metadata":${s.json}}}`,
    `{"action":"error","error":"Bad Request","message":${s.isString ? s.json : '"x"'},"data":${s.json}}`,
  ];
  if (s.isString) frames.push(`{"action":${s.json}}`);
  if (s.json.startsWith('[')) frames.push(s.json);
  return frames;
}

const DOJO_HEADERS = '{"deviceId":"t-1","deviceType":"card-machine","dojoRequestingProduct":"pay-at-table"}';

/** Dojo calls the EPOS: each frame is a request (or a batch) carrying the value. */
export function dojoFrames(s: Shape): string[] {
  if (s.notJson) return [s.json];
  const frames = [
    `{"jsonrpc":"2.0","id":"fz-1","method":"GetOrderByIdV1","params":{"headers":${DOJO_HEADERS},"orderId":${s.isString ? s.json : '"o-1"'},"extra":${s.json}}}`,
    `{"jsonrpc":"2.0","id":"fz-2","method":"HandleEventV1","params":{"headers":${DOJO_HEADERS},"id":"ev-1","event":${s.isString ? s.json : '"x"'},"data":${s.json}}}`,
  ];
  if (s.isString) frames.push(`{"jsonrpc":"2.0","id":"fz-3","method":${s.json},"params":{}}`, `{"jsonrpc":"2.0","id":${s.json},"method":"GetOrderByIdV1","params":{"headers":${DOJO_HEADERS},"orderId":"o-2"}}`);
  if (s.json.startsWith('[')) frames.push(s.json);
  return frames;
}

/** Pusher frames: the value inside the event's `data` (itself JSON text, as Pusher sends it), as the event or channel name, and as `data` of a protocol event. */
export function quickpayFrames(s: Shape): string[] {
  if (s.notJson) return [s.json];
  const frames = [
    `{"event":"rates.updated","channel":"${RATES_CHANNEL}","data":${JSON.stringify(`{"rate":1,"extra":${s.json}}`)}}`,
    `{"event":"pusher:error","data":${s.json}}`,
  ];
  if (s.isString) frames.push(`{"event":${s.json},"channel":"${RATES_CHANNEL}","data":"{}"}`, `{"event":"rates.updated","channel":${s.json},"data":"{}"}`);
  if (s.json.startsWith('[')) frames.push(s.json);
  return frames;
}

/** SensePass `message` payloads (the simulator wraps each in a Socket.IO event packet): the value in a transaction, or as the payload itself. */
export function sensepassFrames(s: Shape): string[] {
  if (s.notJson) return [s.json];
  return [
    `{"TransactionNumber":"${'f'.repeat(56)}","status":${s.isString ? 5 : 6},"statusName":${s.isString ? s.json : '"x"'},"posData":${s.json}}`,
    s.json,
  ];
}

/** Longest gap between ticks of a 1 ms interval while `work` runs: the longest blocking task. */
export async function longestGap(work: () => Promise<void>): Promise<number> {
  let last = performance.now();
  let max = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    if (now - last > max) max = now - last;
    last = now;
  }, 1);
  try {
    await new Promise((r) => setTimeout(r, 5));
    max = 0;
    last = performance.now();
    await work();
    await new Promise((r) => setTimeout(r, 5));
    const now = performance.now();
    return Math.max(max, now - last);
  } finally {
    clearInterval(probe);
  }
}

async function listen(): Promise<{ wss: WebSocketServer; port: number; next: () => Promise<WebSocket> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * MB });
  await once(wss, 'listening');
  const waiting: Array<(ws: WebSocket) => void> = [];
  const arrived: WebSocket[] = [];
  wss.on('connection', (ws) => {
    ws.on('error', () => undefined);
    // The adapters' own traffic (getTerminals, pings) gets no answer it could act on.
    const w = waiting.shift();
    if (w) w(ws);
    else arrived.push(ws);
  });
  return {
    wss,
    port: (wss.address() as AddressInfo).port,
    next: () => {
      const ws = arrived.shift();
      return ws ? Promise.resolve(ws) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** One contender: a server socket to send on, and a way to know a marker frame was handled. */
export interface Contender {
  name: string;
  /** The server's end of the current connection. */
  server(): Promise<WebSocket>;
  /** Sends `frame` then a small marker, and resolves once the marker has been handled. */
  deliver(frame: string | Buffer): Promise<void>;
  /** Connections the server has seen (a reconnect adds one). */
  connections(): number;
  close(): Promise<void>;
}

const MARK_TIMEOUT_MS = 20_000;

function markerWaiter(): { wait: (n: number) => Promise<void>; hit: () => void } {
  let seen = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  return {
    hit: () => {
      seen += 1;
      for (const w of waiters.splice(0)) {
        if (seen >= w.n) w.resolve();
        else waiters.push(w);
      }
    },
    wait: (n) => (seen >= n ? Promise.resolve() : new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`marker ${n} not handled within ${MARK_TIMEOUT_MS} ms`)), MARK_TIMEOUT_MS);
      waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
    })),
  };
}

async function contender(
  name: string,
  connect: (url: string, onMarker: () => void) => Promise<{ close: () => Promise<void> }>,
  /** The marker frame, or one made for each send (Dojo answers a repeated request id from its cache). */
  marker: string | ((n: number) => string),
): Promise<Contender> {
  const srv = await listen();
  let connections = 0;
  let current: WebSocket | undefined;
  srv.wss.on('connection', (ws) => {
    connections += 1;
    current = ws;
  });
  const marks = markerWaiter();
  const client = await connect(`ws://127.0.0.1:${srv.port}`, marks.hit);
  let sent = 0;
  const server = async () => {
    const started = Date.now();
    while (!current || current.readyState !== WebSocket.OPEN) {
      if (Date.now() - started > MARK_TIMEOUT_MS) throw new Error(`${name}: no open connection`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return current;
  };
  return {
    name,
    server,
    connections: () => connections,
    deliver: async (frame) => {
      const ws = await server();
      ws.send(frame);
      sent += 1;
      ws.send(typeof marker === 'string' ? marker : marker(sent));
      await marks.wait(sent);
    },
    close: async () => {
      await client.close();
      for (const ws of srv.wss.clients) ws.terminate();
      await new Promise((r) => srv.wss.close(() => r(undefined)));
    },
  };
}

/** A `ws` client that JSON.parses each frame and does nothing else: the reference. */
export function bareClient(): Promise<Contender> {
  return contender('bare ws + JSON.parse', async (url, onMarker) => {
    const ws = new WebSocket(url, { maxPayload: 64 * MB });
    ws.on('message', (data) => {
      let v: unknown;
      try {
        v = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (v && typeof v === 'object' && (v as { marker?: unknown }).marker === true) onMarker();
    });
    await once(ws, 'open');
    return { close: async () => { ws.terminate(); } };
  }, '{"marker":true}');
}

/** The adapters' secrets: a test checks none reaches a log line. */
export const SECRETS = {
  paymentsense: 'tok_fuzz_secret_7f3a9c', modulusKey: 'mk_fuzz_secret_51be02', modulusSecret: 'ms_fuzz_secret_c8d4e6',
  dojo: 'sk_sandbox_fuzz_secret_0b8e41', sensepassDevice: 'sp_fuzz_device_secret_92d7aa',
} as const;

const RATES_CHANNEL = 'private-exchange-rate';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export function paymentsenseClient(logger: Logger = quiet): Promise<Contender> {
  return contender('PaymentsenseProvider', async (url, onMarker) => {
    const p = new PaymentsenseProvider({
      environment: 'custom', url, token: SECRETS.paymentsense, softwareHouseId: 'SH1', installerId: 'IN1',
      logger, heartbeatIntervalMs: 0, backoff: { initialMs: 20, maxMs: 100 },
    });
    p.onNotification((e: NotificationEvent) => { if (e.event === 'fuzz_marker') onMarker(); });
    p.start();
    await untilState(() => p.state.name === 'connected');
    return { close: () => p.stop() };
  }, '{"jsonrpc":"2.0","method":"transactionNotification","params":{"notification":"FUZZ_MARKER"}}');
}

export function modulusClient(logger: Logger = quiet): Promise<Contender> {
  return contender('ModulusProvider', async (url, onMarker) => {
    const p = new ModulusProvider({
      environment: 'custom', url, apiKey: SECRETS.modulusKey, apiSecret: SECRETS.modulusSecret, logger,
      pingIntervalMs: 600_000, backoff: { initialMs: 20, maxMs: 100 },
    });
    p.onNotification((e: NotificationEvent) => { if (e.event === 'fuzz_marker') onMarker(); });
    p.start();
    await untilState(() => p.state.name === 'connected');
    return { close: () => p.stop() };
  }, '{"action":"FUZZ_MARKER"}');
}

export function dojoClient(logger: Logger = quiet): Promise<Contender> {
  return contender('EposServer', async (url, onMarker) => {
    const server = new EposServer({
      url: () => `${url}/epos`, apiKey: SECRETS.dojo, softwareHouseId: 'SH1', register: async () => undefined,
      logger, heartbeatIntervalMs: 30_000, backoff: { initialMs: 20, maxMs: 100 },
    });
    server.serve(new Set(['GetOrderByIdV1']), async (request: InboundRequest) => {
      if ((request.params as { orderId?: unknown }).orderId === 'FUZZ_MARKER') onMarker();
      return { id: 'o-1', status: 'Accepted' };
    });
    server.start();
    await untilState(() => server.state.name === 'connected');
    return { close: () => server.stop() };
  }, (n) => `{"jsonrpc":"2.0","id":"marker-${n}","method":"GetOrderByIdV1","params":{"headers":${DOJO_HEADERS},"orderId":"FUZZ_MARKER"}}`);
}

/**
 * A contender on a simulator that speaks the protocol (Pusher, Socket.IO): `sendRaw` puts the
 * frame on the wire as it is, `sendMarker(n)` sends an ordinary event numbered n that the adapter
 * reports. A protocol library may drop the connection on a frame it cannot decode (socket.io-client
 * does, on a broken packet); the marker is then sent again until the new connection carries it.
 */
async function simulated(name: string, parts: {
  sendRaw: (frame: string) => number;
  sendMarker: (n: number) => number;
  connections: () => number;
  close: () => Promise<void>;
}, register: (onMarker: (n: number) => void) => void): Promise<Contender> {
  let seen = 0;
  register((n) => { if (n > seen) seen = n; });
  let next = 0;
  const until = async (n: number) => {
    const started = Date.now();
    let lastSend = Date.now();
    while (seen < n) {
      if (Date.now() - started > MARK_TIMEOUT_MS) throw new Error(`${name}: marker ${n} not handled within ${MARK_TIMEOUT_MS} ms`);
      // A marker lost with a dropped connection is sent again on the next one.
      if (Date.now() - lastSend > 250) {
        parts.sendMarker(n);
        lastSend = Date.now();
      }
      await new Promise((r) => setImmediate(r));
    }
  };
  // Ready once a marker reaches the adapter (it has subscribed).
  next += 1;
  parts.sendMarker(next);
  await until(next);
  return {
    name,
    server: () => Promise.reject(new Error(`${name}: the simulator owns the server socket`)),
    connections: parts.connections,
    deliver: async (frame) => {
      next += 1;
      parts.sendRaw(frame.toString());
      parts.sendMarker(next);
      await until(next);
    },
    close: parts.close,
  };
}

export async function quickpayClient(logger: Logger = quiet): Promise<Contender> {
  const sim = new QuickPaySimulator({ rateIntervalMs: 0, paymentIntervalMs: 0 });
  const { apiUrl } = await sim.start();
  const p = new QuickPayProvider({
    environment: 'custom', url: apiUrl, appKey: SIMULATOR_APP_KEY, merchantId: SIMULATOR_MERCHANT_ID,
    apiKey: SIMULATOR_API_KEY, privateKeyPem: simulatorKeys().privateKeyPem, logger, backoff: { initialMs: 20, maxMs: 100 },
  });
  p.setTopics(['rates']);
  p.start();
  return simulated('QuickPayProvider', {
    // An empty frame is not sent: it only asks whether a connection is open.
    sendRaw: (frame) => sim.sendRaw(frame),
    sendMarker: (n) => sim.publish(RATES_CHANNEL, 'fuzz.marker', { n }),
    connections: () => sim.connectionsAccepted,
    close: async () => { await p.stop(); await sim.stop(); },
  }, (onMarker) => p.onNotification((e: NotificationEvent) => { if (e.event === 'fuzz.marker') onMarker((e.data as { n: number }).n); }));
}

export async function sensepassClient(logger: Logger = quiet): Promise<Contender> {
  const sim = new SensePassSimulator({ deviceIds: [SECRETS.sensepassDevice] });
  const { url } = await sim.start();
  const p = new SensePassProvider({ environment: 'custom', url, deviceId: SECRETS.sensepassDevice, logger, backoff: { initialMs: 20, maxMs: 100 } });
  p.start();
  // A transaction number of 56 characters, as SensePass's are: "m", the marker's number, "e"s.
  const marker = (n: number) => `m${n}`.padEnd(56, 'e');
  return simulated('SensePassProvider', {
    sendRaw: (frame) => sim.sendRawToDevice(SECRETS.sensepassDevice, frame),
    sendMarker: (n) => sim.sendRawToDevice(SECRETS.sensepassDevice, `{"TransactionNumber":"${marker(n)}","status":6}`),
    connections: () => sim.socketConnections,
    close: async () => { await p.stop(); await sim.stop(); },
  }, (onMarker) => p.onNotification((e: NotificationEvent) => {
    const number = (e.data as { TransactionNumber?: unknown } | null)?.TransactionNumber;
    if (typeof number === 'string' && number.startsWith('m')) onMarker(Number.parseInt(number.slice(1), 10));
  }));
}

async function untilState(check: () => boolean): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > MARK_TIMEOUT_MS) throw new Error('the adapter did not connect');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The smallest of `n` longest-gap measurements: a descheduled process only ever adds to a gap. */
export async function bestGap(c: Contender, frame: string | Buffer, n: number): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < n; i++) best = Math.min(best, await longestGap(() => c.deliver(frame)));
  return best;
}
