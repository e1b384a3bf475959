// Measurement 9 (journal-shared): two instances of the pack on one PostgreSQL journal (a
// throwaway cluster started here, as the tests do), in one process: each instance is the pack's
// own journal, provider and PaymentService, as a config node builds them, without Node-RED.
//
//   - Paymentsense (every instance connects): payments/s and p50/p99 with 64 in flight spread
//     over both instances, interleaved round by round with the same pair on two file journals,
//     so the ratio is measured side by side;
//   - Modulus (one connection per account, leased): payments sent to the holder against
//     payments the standby hands over to it, interleaved;
//   - the lease: time for the second contender to hold it after the holder stops renewing
//     without releasing (a crash) and after a graceful stop.

import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Journal } from '../lib/core/journal';
import { LeasedProvider } from '../lib/core/leased-provider';
import { PaymentService } from '../lib/core/payments';
import type { PaymentProvider } from '../lib/core/provider';
import { silentLogger, type Logger, type PaymentRequest } from '../lib/core/types';
import { FileJournal } from '../lib/journal/file-journal';
import { PostgresJournal } from '../lib/journal/postgres-journal';
import { PostgresLease } from '../lib/journal/postgres-lease';
import { ModulusProvider } from '../lib/providers/modulus/client';
import { PaymentsenseProvider } from '../lib/providers/paymentsense/client';
import { ModulusSimulator } from '../lib/simulators/modulus';
import { PaymentsenseSimulator } from '../lib/simulators/paymentsense';
import { startPostgres } from '../test/support/postgres';
import { ProviderConnection } from '../nodes/shared/connection';
import { reference, saleRequest, scratchDir, summarize, type LatencySummary } from './journal-data';
import { childMain, log, removeDir, sleep, waitFor } from './proc';
import { median, round } from './stats';

interface Contest { perSecond: number; latency: LatencySummary }

export interface JournalSharedResult {
  rounds: number;
  paymentsPerRound: number;
  inflight: number;
  paymentsense: { postgres: Contest[]; file: Contest[]; ratio: number };
  modulus: { holder: Contest[]; handedOver: Contest[]; ratio: number; inflight: number };
  lease: { leaseSeconds: number; crashMs: number[]; gracefulMs: number[]; targetMs: number; pass: boolean };
}

/** `count` payments, `inflight` at a time, each sent by `pay(n)`. */
async function drive(count: number, inflight: number, pay: (n: number) => Promise<unknown>): Promise<Contest> {
  const times = new Float64Array(count);
  let done = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (next < count) {
      const n = next++;
      const t = performance.now();
      await pay(n);
      times[done++] = performance.now() - t;
    }
  }));
  const ms = performance.now() - started;
  return { perSecond: round((count / ms) * 1000, 0), latency: summarize(times, done) };
}

/** BENCH_DEBUG=1 shows what the instances log (reconnects, lease changes) on stderr. */
const logger: Logger = process.env.BENCH_DEBUG ? { debug() {}, info: (m) => log(`info: ${m}`), warn: (m) => log(`warn: ${m}`), error: (m) => log(`error: ${m}`) } : silentLogger;

export async function main(): Promise<JournalSharedResult> {
  const rounds = Number(process.env.BENCH_SHARED_ROUNDS) || 5;
  const perRound = Number(process.env.BENCH_SHARED_PAYMENTS) || 2000;
  const inflight = 64;
  const leaseSeconds = Number(process.env.BENCH_SHARED_LEASE_SECONDS) || 5;
  const db = await startPostgres();
  const scratch = scratchDir('journal-shared');
  const stops: Array<() => Promise<unknown>> = [];
  try {
    // ---- Paymentsense: both instances connected, shared journal vs file journals ------------
    const ps = new PaymentsenseSimulator({ stepDelayMs: 0, pingIntervalMs: 60_000 });
    const { url } = await ps.start();
    stops.push(() => ps.stop());
    const paymentsense = async (journal: Journal) => {
      const provider = new PaymentsenseProvider({ environment: 'custom', url, token: 'simulator-token', softwareHouseId: 'SH01', installerId: 'IN01', logger: silentLogger });
      provider.start();
      stops.push(() => provider.stop());
      await waitFor(() => provider.state.name === 'connected', 'Paymentsense connected', 10_000);
      return new PaymentService(provider, journal, silentLogger);
    };
    const shared = await Promise.all(['bench-a', 'bench-b'].map(async (id) => {
      const j = await PostgresJournal.open({ connectionString: db.url, account: 'paymentsense:bench', instanceId: id, leaseSeconds, logger: silentLogger });
      stops.push(() => j.close());
      return paymentsense(j);
    }));
    const onFiles = await Promise.all(['file-a', 'file-b'].map(async (name) => {
      const j = await FileJournal.open(path.join(scratch, name));
      stops.push(() => j.close());
      return paymentsense(j);
    }));
    const pgRounds: Contest[] = [];
    const fileRounds: Contest[] = [];
    let n = 0;
    for (let r = 0; r < rounds; r++) {
      for (const [services, out] of [[shared, pgRounds], [onFiles, fileRounds]] as const) {
        const base = n;
        n += perRound;
        out.push(await drive(perRound, inflight, (i) => services[i % 2]!.pay(saleRequest(reference(`S${r}`, base + i), base + i), { timeoutMs: 30_000 })));
      }
      log(`journal-shared: Paymentsense round ${r + 1}: shared ${pgRounds.at(-1)!.perSecond}/s, files ${fileRounds.at(-1)!.perSecond}/s`);
    }

    // ---- Modulus: one connection, leased; the standby hands over ---------------------------
    const modInflight = 16;
    const terminals = Array.from({ length: modInflight * 2 }, (_, i) => ({ deviceId: `BENCH-${i}`, name: `bench ${i}` }));
    const ms = new ModulusSimulator({ stepDelayMs: 0, graceMs: 1000, terminals });
    const mod = await ms.start();
    stops.push(() => ms.stop());
    const instance = async (id: string) => {
      const j = await PostgresJournal.open({ connectionString: db.url, account: 'modulus:bench', instanceId: id, leaseSeconds, logger });
      const inner: PaymentProvider = new ModulusProvider({ environment: 'custom', url: mod.url, apiKey: 'mk_simulator_key', apiSecret: 'mk_simulator_secret', logger, pingIntervalMs: 30_000 });
      const leased = new LeasedProvider(inner, () => PostgresLease.open({ connectionString: db.url, name: 'modulus:bench', instanceId: id, leaseSeconds, logger }), logger);
      const conn = new ProviderConnection(leased, j, logger);
      conn.register({ id: `${id}-user`, onState: () => {} });
      stops.push(async () => { await conn.close(); await j.close(); });
      return { leased, conn };
    };
    const a = await instance('mod-a');
    await waitFor(() => a.leased.state.name === 'connected', 'Modulus holder connected', 15_000);
    const b = await instance('mod-b');
    await waitFor(() => b.leased.state.name === 'standby', 'Modulus standby', 15_000);
    const holderRounds: Contest[] = [];
    const handedRounds: Contest[] = [];
    const modPerRound = Math.max(100, Math.round(perRound / 4));
    for (let r = 0; r < rounds; r++) {
      for (const [inst, out, tag] of [[a, holderRounds, 'H'], [b, handedRounds, 'B']] as const) {
        out.push(await drive(modPerRound, modInflight, (i) => {
          // Whole amounts: the simulators' amount rule (ending 51..55) would decline, time out or drop.
          const request: PaymentRequest = { kind: 'sale', amount: (10 + i) * 100, currency: 'PHP', reference: `${tag}${r}-${i}-${randomUUID().slice(0, 4)}`, terminalId: `BENCH-${(i % modInflight) + (tag === 'B' ? modInflight : 0)}` };
          return inst.conn.payments.pay(request, { timeoutMs: 30_000 });
        }));
      }
      log(`journal-shared: Modulus round ${r + 1}: holder ${holderRounds.at(-1)!.perSecond}/s, handed over ${handedRounds.at(-1)!.perSecond}/s`);
    }

    // ---- the lease: crash and graceful takeovers --------------------------------------------
    const crashMs: number[] = [];
    const gracefulMs: number[] = [];
    for (let r = 0; r < 3; r++) {
      for (const graceful of [false, true]) {
        const name = `bench-lease-${r}-${graceful}`;
        const first = await PostgresLease.open({ connectionString: db.url, name, instanceId: 'lease-a', leaseSeconds, logger });
        first.start();
        await waitFor(() => first.holding, 'first holder', 10_000);
        const second = await PostgresLease.open({ connectionString: db.url, name, instanceId: 'lease-b', leaseSeconds, logger });
        second.start();
        await sleep(200);
        const t = performance.now();
        await first.stop({ release: graceful });
        await waitFor(() => second.holding, 'second holder', (leaseSeconds + 10) * 1000, 2);
        (graceful ? gracefulMs : crashMs).push(round(performance.now() - t, 0));
        await second.stop();
      }
    }
    const targetMs = (leaseSeconds + 5) * 1000;
    return {
      rounds, paymentsPerRound: perRound, inflight,
      paymentsense: { postgres: pgRounds, file: fileRounds, ratio: round(median(pgRounds.map((c) => c.perSecond)) / median(fileRounds.map((c) => c.perSecond)), 3) },
      modulus: { holder: holderRounds, handedOver: handedRounds, inflight: modInflight, ratio: round(median(handedRounds.map((c) => c.perSecond)) / median(holderRounds.map((c) => c.perSecond)), 3) },
      lease: { leaseSeconds, crashMs, gracefulMs, targetMs, pass: Math.max(...crashMs, ...gracefulMs) <= targetMs },
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await db.stop();
    removeDir(scratch);
  }
}

if (require.main === module) childMain(main);
