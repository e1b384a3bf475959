// Measurement 9, frame-gap: the longest event-loop block while each adapter (Paymentsense,
// Modulus, Dojo's EPOS socket, QuickPay over Pusher, SensePass over Socket.IO) handles one huge
// inbound frame (1 MB values of many shapes, test/support/frame-fuzz-kit),
// beside a bare `ws` client that only JSON.parses the same frame, in the same process and run.
// The gap is the longest interval between ticks of a 1 ms probe; each frame is sent `repeats`
// times per contender, interleaved, and the median counts. Target: no frame's median gap in
// the adapters above `targetMs` (50 ms). The plain `ws` servers run in this process too: they
// only write a prepared buffer, which costs the bare client the same as the adapters.

import {
  bareClient, dojoClient, dojoFrames, longestGap, modulusClient, modulusFrames, paymentsenseClient, paymentsenseFrames,
  quickpayClient, quickpayFrames, sensepassClient, sensepassFrames, shapes, type Contender,
} from '../test/support/frame-fuzz-kit';
import { loadConfig } from './config';
import { childMain, log } from './proc';
import { median, round } from './stats';

export interface FrameGapRow {
  provider: 'paymentsense' | 'modulus' | 'dojo' | 'quickpay' | 'sensepass';
  shape: string;
  frame: number;
  bytes: number;
  /** Median longest gap, ms. */
  ours: number;
  bare: number;
}

export interface FrameGapResult {
  repeats: number;
  valueBytes: number;
  rows: FrameGapRow[];
  /** The worst row of each contender, by median gap. */
  worst: { ours: FrameGapRow; bare: FrameGapRow };
  /**
   * Connections each adapter's server saw (1 = the connection survived every frame; SensePass's
   * socket.io-client closes on a packet it cannot decode, so there 1 + the "not JSON" sends).
   */
  connections: Record<FrameGapRow['provider'], number>;
  /** The connections expected, as above. */
  expectedConnections: Record<FrameGapRow['provider'], number>;
  target: number;
  pass: boolean;
}

async function main(): Promise<FrameGapResult> {
  const cfg = loadConfig().frameGap;
  const all = shapes(cfg.valueBytes);
  const bare = await bareClient();
  const contenders: Array<[FrameGapRow['provider'], Contender, (s: (typeof all)[number]) => string[]]> = [
    ['paymentsense', await paymentsenseClient(), paymentsenseFrames],
    ['modulus', await modulusClient(), modulusFrames],
    ['dojo', await dojoClient(), dojoFrames],
    ['quickpay', await quickpayClient(), quickpayFrames],
    ['sensepass', await sensepassClient(), sensepassFrames],
  ];
  const expectedConnections = Object.fromEntries(contenders.map(([p]) => [p, 1])) as Record<FrameGapRow['provider'], number>;
  const rows: FrameGapRow[] = [];
  try {
    for (const [provider, ours, framesOf] of contenders) {
      for (const shape of all) {
        const frames = framesOf(shape);
        for (let i = 0; i < frames.length; i++) {
          const frame = Buffer.from(frames[i]!);
          const o: number[] = [];
          const b: number[] = [];
          for (let r = 0; r < cfg.repeats; r++) {
            // Interleaved, the first alternating, so a slow spell of the machine hits both.
            const pair = r % 2 === 0 ? [ours, bare] : [bare, ours];
            for (const c of pair) (c === ours ? o : b).push(await longestGap(() => c.deliver(frame)));
          }
          if (provider === 'sensepass' && shape.notJson) expectedConnections.sensepass += cfg.repeats;
          rows.push({ provider, shape: shape.name, frame: i, bytes: frame.length, ours: round(median(o), 2), bare: round(median(b), 2) });
        }
        log(`frame-gap: ${provider} ${shape.name} done`);
      }
    }
    const worstBy = (key: 'ours' | 'bare') => rows.reduce((w, r) => (r[key] > w[key] ? r : w));
    const worst = { ours: worstBy('ours'), bare: worstBy('bare') };
    return {
      repeats: cfg.repeats,
      valueBytes: cfg.valueBytes,
      rows,
      worst,
      connections: Object.fromEntries(contenders.map(([p, c]) => [p, c.connections()])) as Record<FrameGapRow['provider'], number>,
      expectedConnections,
      target: cfg.targetMs,
      pass: worst.ours.ours <= cfg.targetMs && contenders.every(([p, c]) => c.connections() === expectedConnections[p]),
    };
  } finally {
    for (const [, c] of contenders) await c.close();
    await bare.close();
  }
}

if (require.main === module) childMain(main);
