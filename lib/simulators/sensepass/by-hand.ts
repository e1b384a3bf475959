// The SensePass simulator for `npm run simulators` (see ../by-hand.ts).

import type { ByHand } from '../by-hand';
import { SensePassSimulator, SIMULATOR_DEVICE_ID } from './index';

export const byHand: ByHand = (port, logger) => {
  // A customer who takes 4 s to tap, so a cancel sent by hand lands before it.
  const sim = new SensePassSimulator({ port, tapDelayMs: 4000, ...logger });
  return {
    start: async () => {
      const { url } = await sim.start();
      return `SensePass simulator: ${url} (REST at /api, Socket.IO on the same host) for a pos-sensepass node in custom mode; device id "${SIMULATOR_DEVICE_ID}"`;
    },
    stop: () => sim.stop(),
  };
};
