// `npm run simulators`: every provider simulator on a fixed loopback port, for a config
// node in `custom` mode or for poking at the protocol by hand. Stops on Ctrl-C.

import { PaymentsenseSimulator, SIMULATOR_TOKEN } from './paymentsense';

export interface StartedSimulators {
  lines: string[];
  stop(): Promise<void>;
}

export async function startSimulators(basePort = 8701, log?: (line: string) => void): Promise<StartedSimulators> {
  const paymentsense = new PaymentsenseSimulator({ port: basePort, ...(log ? { logger: log } : {}) });
  const { url } = await paymentsense.start();
  return {
    lines: [`Paymentsense Connect simulator: ${url} (custom environment; token "${SIMULATOR_TOKEN}", any software house and installer id)`],
    stop: () => paymentsense.stop(),
  };
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
