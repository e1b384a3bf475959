// The Modulus Labs Terminal Gateway simulator for `npm run simulators` (see ../by-hand.ts).

import type { ByHand } from '../by-hand';
import { ModulusSimulator, SIMULATOR_API_KEY } from './index';

export const byHand: ByHand = (port, logger) => {
  const sim = new ModulusSimulator({ port, ...logger });
  return {
    start: async () => {
      const { url } = await sim.start();
      return `Modulus Labs Terminal Gateway simulator: ${url} (WebSocket at /v1) for a pos-modulus node in custom mode; API key "${SIMULATOR_API_KEY}"`;
    },
    stop: () => sim.stop(),
  };
};
