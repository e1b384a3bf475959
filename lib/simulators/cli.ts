// `npm run simulators`: every provider simulator on a fixed loopback port, for a config
// node in `custom` mode or for poking at the protocol by hand. Stops on Ctrl-C.

import { DojoSimulator, SIMULATOR_API_KEY } from './dojo';
import { ModulusSimulator, SIMULATOR_API_KEY as MODULUS_KEY } from './modulus';
import { PaymentsenseSimulator, SIMULATOR_TOKEN } from './paymentsense';
import { QuickPaySimulator, SIMULATOR_API_KEY as QUICKPAY_KEY, SIMULATOR_MERCHANT_ID } from './quickpay';
import { SensePassSimulator, SIMULATOR_DEVICE_ID } from './sensepass';

export interface StartedSimulators {
  lines: string[];
  stop(): Promise<void>;
}

export async function startSimulators(basePort = 8701, log?: (line: string) => void): Promise<StartedSimulators> {
  const logger = log ? { logger: log } : {};
  const paymentsense = new PaymentsenseSimulator({ port: basePort, ...logger });
  // A card machine that walks pay at table every 20 s once an EPOS has registered for it.
  const dojo = new DojoSimulator({ port: basePort + 1, payAtTableIntervalMs: 20_000, ...logger });
  const modulus = new ModulusSimulator({ port: basePort + 2, ...logger });
  // A customer who takes 4 s to tap, so a cancel sent by hand lands before it.
  const sensepass = new SensePassSimulator({ port: basePort + 3, tapDelayMs: 4000, ...logger });
  // A person points a custom config node at this one with a private key of their own, so JWT
  // signatures are not checked (everything else about the request is).
  const quickpay = new QuickPaySimulator({ port: basePort + 4, verifyJwt: false, ...logger });
  const all = [paymentsense, dojo, modulus, sensepass, quickpay];
  try {
    const { url } = await paymentsense.start();
    const dojoStarted = await dojo.start();
    const modulusStarted = await modulus.start();
    const sensepassStarted = await sensepass.start();
    const quickpayStarted = await quickpay.start();
    return {
      lines: [
        `Paymentsense Connect simulator: ${url} (custom environment; token "${SIMULATOR_TOKEN}", any software house and installer id; /pac, and /pat where a terminal walks the tables 10 s after you connect, then every 30 s)`,
        `Dojo simulator: ${dojoStarted.url} (REST; EPOS Data WebSocket at ${dojoStarted.url.replace(/^http/, 'ws')}/epos) for a pos-dojo node in custom mode; API key "${SIMULATOR_API_KEY}", any software-house-id`,
        `Modulus Labs Terminal Gateway simulator: ${modulusStarted.url} (WebSocket at /v1) for a pos-modulus node in custom mode; API key "${MODULUS_KEY}"`,
        `SensePass simulator: ${sensepassStarted.url} (REST at /api, Socket.IO on the same host) for a pos-sensepass node in custom mode; device id "${SIMULATOR_DEVICE_ID}"`,
        `QuickPay simulator: ${quickpayStarted.apiUrl} (Pusher WebSocket at /app/<app key>, auth at /v1/websocket/auth) for a pos-quickpay node in custom mode; API key "${QUICKPAY_KEY}", merchant id "${SIMULATOR_MERCHANT_ID}", any private key (JWT signatures not checked)`,
      ],
      stop: async () => {
        await Promise.all(all.map((sim) => sim.stop()));
      },
    };
  } catch (err) {
    await Promise.all(all.map((sim) => sim.stop()));
    throw err;
  }
}

if (require.main === module) {
  const port = Number(process.env.POS_SIMULATOR_PORT ?? 8701);
  startSimulators(port, (line) => console.log(line)).then((sims) => {
    for (const line of sims.lines) console.log(line);
    const stop = () => sims.stop().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }, (err: Error) => {
    console.error(`could not start the simulators: ${err.message}`);
    process.exit(1);
  });
}
