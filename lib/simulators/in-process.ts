// The `simulator` environment: config nodes share one in-process simulator per provider,
// started on a free loopback port when the first needs it and stopped with the last.

export interface RunningSimulator {
  /** Base URL for the adapter, e.g. ws://127.0.0.1:43121 */
  url: string;
  release(): Promise<void>;
}

interface Simulator {
  start(): Promise<{ url: string }>;
  stop(): Promise<void>;
}

interface Entry {
  users: number;
  started: Promise<{ url: string }>;
  simulator: Simulator;
}

const running = new Map<string, Entry>();

export function acquireSimulator(name: string, create: () => Simulator): Promise<RunningSimulator> {
  let entry = running.get(name);
  if (!entry) {
    const simulator = create();
    entry = { users: 0, simulator, started: simulator.start() };
    running.set(name, entry);
    entry.started.catch(() => running.delete(name));
  }
  const mine = entry;
  mine.users += 1;
  let released = false;
  return mine.started.then(({ url }) => ({
    url,
    async release() {
      if (released) return;
      released = true;
      mine.users -= 1;
      if (mine.users === 0 && running.get(name) === mine) {
        running.delete(name);
        await mine.simulator.stop();
      }
    },
  }));
}
