// The Paymentsense Connect simulator for `npm run simulators` (see ../by-hand.ts).

import type { ByHand } from '../by-hand';
import { PaymentsenseSimulator, SIMULATOR_TOKEN } from './index';

export const byHand: ByHand = (port, logger) => {
  const sim = new PaymentsenseSimulator({ port, ...logger });
  return {
    start: async () => {
      const { url } = await sim.start();
      return `Paymentsense Connect simulator: ${url} (custom environment; token "${SIMULATOR_TOKEN}", any software house and installer id; /pac, and /pat where a terminal walks the tables 10 s after you connect, then every 30 s)`;
    },
    stop: () => sim.stop(),
  };
};
