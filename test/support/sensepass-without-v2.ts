// Run as a child process with socket.io-client-v2 hidden (hide-modules.ts): a SensePass
// connection that asks for the Socket.IO 2 client, against the simulator. Prints one JSON line:
// the connection state it settled in, every log line, and what a payment attempt got.
import { MemoryJournal } from '../../lib/core/journal';
import { PaymentService } from '../../lib/core/payments';
import type { ConnectionState, Logger } from '../../lib/core/types';
import { SensePassProvider } from '../../lib/providers/sensepass/client';
import { SensePassSimulator } from '../../lib/simulators/sensepass';

async function main(): Promise<void> {
  const sim = new SensePassSimulator({ deviceIds: ['sp_device'] });
  const { url } = await sim.start();
  const lines: string[] = [];
  const logger: Logger = { debug: () => {}, info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
  const provider = new SensePassProvider({ environment: 'custom', url, deviceId: 'sp_device', clientVersion: '2', logger, backoff: { initialMs: 20, maxMs: 50 } });
  const states: ConnectionState[] = [];
  provider.onState((s) => states.push(s));
  provider.start();
  const until = Date.now() + 3000;
  while (!['error', 'connected', 'unauthorized'].includes(provider.state.name) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  // A little longer: a retry loop would show as more states.
  await new Promise((r) => setTimeout(r, 300));
  const service = new PaymentService(provider, new MemoryJournal(), logger);
  let payment: { code?: string; message: string };
  try {
    await service.pay({ kind: 'sale', amount: 1250, currency: 'USD', reference: 'no-v2-1' }, { timeoutMs: 2000 });
    payment = { message: 'paid' };
  } catch (err) {
    payment = { code: (err as { code?: string }).code, message: (err as Error).message };
  }
  await provider.stop();
  await sim.stop();
  process.stdout.write(JSON.stringify({ states, lines, payment, charged: sim.ledger.length }) + '\n');
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ crashed: String(err?.stack ?? err) }) + '\n');
  process.exitCode = 1;
});
