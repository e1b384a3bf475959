// The Dojo simulator for `npm run simulators` (see ../by-hand.ts).

import type { ByHand } from '../by-hand';
import { DojoSimulator, SIMULATOR_API_KEY } from './index';

export const byHand: ByHand = (port, logger) => {
  // A card machine that walks pay at table every 20 s once an EPOS has registered for it.
  const sim = new DojoSimulator({ port, payAtTableIntervalMs: 20_000, ...logger });
  return {
    start: async () => {
      const { url } = await sim.start();
      return `Dojo simulator: ${url} (REST; EPOS Data WebSocket at ${url.replace(/^http/, 'ws')}/epos) for a pos-dojo node in custom mode; API key "${SIMULATOR_API_KEY}", any software-house-id`;
    },
    stop: () => sim.stop(),
  };
};
