// `npm run simulators`: every provider simulator on a fixed loopback port, for a config
// node in `custom` mode or for poking at the protocol by hand. Stops on Ctrl-C.

import { PROVIDER_NAMES } from '../providers/registry';
import type { ByHand } from './by-hand';

export interface StartedSimulators {
  lines: string[];
  stop(): Promise<void>;
}

/** One simulator per provider of the table, on consecutive ports in the table's order. */
export async function startSimulators(basePort = 8701, log?: (line: string) => void): Promise<StartedSimulators> {
  const logger = log ? { logger: log } : {};
  const all = PROVIDER_NAMES.map((name, i) => (require(`./${name}/by-hand`) as { byHand: ByHand }).byHand(basePort + i, logger));
  try {
    const lines: string[] = [];
    for (const sim of all) lines.push(await sim.start());
    return {
      lines,
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
