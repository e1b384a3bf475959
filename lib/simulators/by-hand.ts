// What `npm run simulators` needs of each provider's simulator (lib/simulators/<name>/by-hand.ts
// exports `byHand`): one made on a fixed port, with a line telling a person how to point a
// `custom` config node at it.

export interface HandSimulator {
  /** Starts it; resolves with the line that says where it listens and which credentials it takes. */
  start(): Promise<string>;
  stop(): Promise<void>;
}

export type ByHand = (port: number, logger: { logger?: (line: string) => void }) => HandSimulator;
