export {
  ModulusSimulator, SIMULATOR_API_KEY, SIMULATOR_API_SECRET,
  type ModulusSimulatorOptions, type ModulusFault, type ModulusFaults,
} from './simulator';
export type { LedgerEntry, SimTransaction } from './payments';
export { DEFAULT_TERMINALS, type PushStatus, type SimTerminalConfig } from './terminals';
