// The library without Node-RED, for scripts and other hosts: the shared core, the
// provider adapters and their simulators.

export * from './core/types';
export { PosError, isPosError, type PosErrorCode } from './core/errors';
export { checkCurrency, checkMinorUnits, currencyExponent, formatMinor } from './core/money';
export { parsePaymentRequest } from './core/request';
export type { Capabilities, Capability, PaymentProvider } from './core/provider';
export { MemoryJournal, slimResult, type Claim, type Journal, type JournalEntry } from './core/journal';
export { FileJournal } from './journal/file-journal';
export { PaymentService } from './core/payments';
export { whenConnected, CONNECT_WAIT_MAX_MS } from './core/when-connected';
export type { PayOptions } from './core/payments';
export type { BusyMode } from './core/terminal-queue';
export { PaymentsenseProvider, type PaymentsenseOptions } from './providers/paymentsense/client';
export { PaymentsenseSimulator } from './simulators/paymentsense';
export type { InboundRequest, InboundHandler, RequestServer } from './core/inbound';
export { InboundError } from './core/inbound';
export { DojoProvider, type DojoOptions } from './providers/dojo/client';
export { DojoSimulator, SIMULATOR_API_KEY as DOJO_SIMULATOR_API_KEY } from './simulators/dojo';
export { ModulusProvider, type ModulusOptions } from './providers/modulus/client';
export { ModulusSimulator, SIMULATOR_API_KEY as MODULUS_SIMULATOR_API_KEY } from './simulators/modulus';
export { SensePassProvider, type SensePassOptions } from './providers/sensepass/client';
export { SensePassSimulator, SIMULATOR_DEVICE_ID as SENSEPASS_SIMULATOR_DEVICE_ID } from './simulators/sensepass';
export { QuickPayProvider, type QuickPayOptions } from './providers/quickpay/client';
export { QuickPaySimulator, SIMULATOR_API_KEY as QUICKPAY_SIMULATOR_API_KEY } from './simulators/quickpay';
export { REPORT_TYPES, reportRequestFrom, type ReportBalances, type ReportProgress, type ReportRequest, type ReportResult, type ReportRun, type ReportType } from './core/report';
