export { SensePassSimulator, SIMULATOR_DEVICE_ID, type SensePassSimulatorOptions } from './simulator';
export type { SensePassFault } from './book';
export type { LedgerEntry as SensePassLedgerEntry } from './entity';
export type { RestCall as SensePassRestCall } from './routes';
