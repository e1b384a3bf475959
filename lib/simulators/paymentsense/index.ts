export type { PatFaults, PatWalkReport, PatStep, TablePayment } from './pat-terminal';
export { PaymentsenseSimulator, SIMULATOR_TOKEN, type PaymentsenseSimulatorOptions, type SimFaultName } from './simulator';
export type { SimFaults } from './server';
export type { LedgerEntry } from './transactions';
export { DEFAULT_TERMINALS, type SimTerminalConfig } from './terminals';
export type { ReportLedgerEntry } from './reports';
