// Public API of the SMSC simulator (smppd-sim): used by e2e tests, the benchmark and the CLI.
export { startSimulator } from './simulator.js';
export type { MoMessage, ReceiptEvent, SimSessionInfo, Simulator, SimulatorEvents, SimulatorStats, SubmitEvent } from './simulator.js';
export {
  DEFAULT_OPTIONS,
  DLR_SESSIONS,
  RECEIPTS_WHEN,
  RECEIPT_FORMS,
  checkOptions,
} from './options.js';
export type { DlrSession, ReceiptForm, ReceiptsWhen, SimulatorBehaviour, SimulatorOptions } from './options.js';
export { DLR_OUTCOMES } from './receipts.js';
export type { DlrOutcome } from './receipts.js';
export { ID_FORMATS, RECEIPT_ID_STYLES } from './message-ids.js';
export type { IdFormat, ReceiptIdStyle } from './message-ids.js';
