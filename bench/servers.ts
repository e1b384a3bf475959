// The servers the measurements talk to, each run in its own process by proc.startServer():
//
//   rpc        a plain `ws` JSON-RPC server answering `terminalDetails` with a terminal object.
//              It does exactly the same work for every client: JSON.parse the request,
//              JSON.stringify the response, one send.
//   simulator  the pack's PaymentsenseSimulator (options from argv: stepDelayMs, pingIntervalMs).
//
// The process reports { type: 'ready', url } over IPC, answers { type: 'ask' } with counters,
// and exits on { type: 'stop' } or when its parent goes away.

import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData } from 'ws';
import { PaymentsenseSimulator } from '../lib/simulators/paymentsense';

export const BENCH_TOKEN = 'bench-token-0123456789';

/** The terminal the rpc server answers with; valid for isWireTerminal. */
export const TERMINAL = { tid: 'VCM00001SIP0', status: 'AVAILABLE', currency: 'GBP', location: 'Till 1, front counter' };

type Ask = (what: string) => unknown;
type Stop = () => Promise<void>;

async function startRpc(): Promise<{ url: string; ask: Ask; stop: Stop }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: true });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  let answered = 0;
  wss.on('connection', (ws) => {
    ws.on('error', () => undefined);
    ws.on('message', (data: RawData) => {
      let req: { id?: unknown; method?: unknown; params?: { tid?: unknown } };
      try {
        req = JSON.parse(data.toString());
      } catch {
        ws.send('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}');
        return;
      }
      answered++;
      if (req.method === 'terminalDetails') {
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id, result: TERMINAL }));
      } else {
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id ?? null, error: { code: -32601, message: 'Method not found' } }));
      }
    });
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    ask: (what) => (what === 'stats' ? { answered, connections: wss.clients.size } : {}),
    stop: () => new Promise<void>((resolve) => {
      for (const ws of wss.clients) ws.terminate();
      wss.close(() => resolve());
    }),
  };
}

async function startSimulator(opts: { stepDelayMs?: number; pingIntervalMs?: number }): Promise<{ url: string; ask: Ask; stop: Stop }> {
  const sim = new PaymentsenseSimulator({
    token: BENCH_TOKEN,
    stepDelayMs: opts.stepDelayMs ?? 0,
    pingIntervalMs: opts.pingIntervalMs ?? 600_000,
  });
  const { url } = await sim.start();
  return {
    url,
    ask: (what) => {
      if (what === 'stats') return { connections: sim.connectionCount, attempts: sim.connectionAttempts, ledger: sim.ledger.length };
      if (what === 'reset-ledger') {
        sim.resetLedger();
        return { ledger: 0 };
      }
      return {};
    },
    stop: () => sim.stop(),
  };
}

if (require.main === module) {
  const mode = process.argv[2];
  const opts = JSON.parse(process.argv[3] ?? '{}') as Record<string, number>;
  const send = (msg: unknown) => process.send?.(msg);
  process.on('disconnect', () => process.exit(0));
  const started = mode === 'rpc' ? startRpc() : mode === 'simulator' ? startSimulator(opts) : Promise.reject(new Error(`unknown mode ${mode}`));
  started.then(({ url, ask, stop }) => {
    process.on('message', (msg: { type: string; id?: number; what?: string }) => {
      if (msg.type === 'ask') send({ type: 'answer', id: msg.id, data: ask(msg.what ?? '') });
      else if (msg.type === 'stop') {
        const hard = setTimeout(() => process.exit(0), 2_000);
        stop().finally(() => {
          clearTimeout(hard);
          process.exit(0);
        });
      }
    });
    send({ type: 'ready', url });
  }, (err: Error) => {
    send({ type: 'error', message: err.message });
    process.exit(1);
  });
}
