export {
  DojoSimulator, SIMULATOR_API_KEY, SIMULATOR_ACCOUNT_ID,
  type DojoSimulatorOptions, type DojoSimFaults, type DojoSimFaultName, type EventPartial, type SentEvent,
} from './simulator';
export type { CallOptions, CallResult, EposErrorInfo, EposFaults, ReplyFrame } from './epos-client';
export { CARD_MACHINE_HEADERS } from './epos-client';
export { splitAmount, type PayAtTableOptions, type PayAtTableReport, type PayAtTableStep, type TableLedgerEntry } from './pay-at-table';
export { CAPABILITY_NAMES, capabilityFor, type Capability, type Registration } from './registrations';
export { EPOS_PATH, type PosEvent } from './server';
export type { CounterLedgerEntry } from './counter';
