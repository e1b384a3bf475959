// The QuickPay simulator for `npm run simulators` (see ../by-hand.ts).

import type { ByHand } from '../by-hand';
import { QuickPaySimulator, SIMULATOR_API_KEY, SIMULATOR_MERCHANT_ID } from './index';

export const byHand: ByHand = (port, logger) => {
  // A person points a custom config node at this one with a private key of their own, so JWT
  // signatures are not checked (everything else about the request is).
  const sim = new QuickPaySimulator({ port, verifyJwt: false, ...logger });
  return {
    start: async () => {
      const { apiUrl } = await sim.start();
      return `QuickPay simulator: ${apiUrl} (Pusher WebSocket at /app/<app key>, auth at /v1/websocket/auth) for a pos-quickpay node in custom mode; API key "${SIMULATOR_API_KEY}", merchant id "${SIMULATOR_MERCHANT_ID}", any private key (JWT signatures not checked)`;
    },
    stop: () => sim.stop(),
  };
};
