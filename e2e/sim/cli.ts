// smppd-sim's command line: options -> SimulatorOptions (pure, so it is tested without a process).

import { parseArgs } from 'node:util';
import { ID_FORMATS, RECEIPT_ID_STYLES } from './message-ids.js';
import { DEFAULT_OPTIONS, DLR_SESSIONS, RECEIPTS_WHEN, RECEIPT_FORMS, type SimulatorOptions } from './options.js';
import { DLR_OUTCOMES } from './receipts.js';
import { UsageError, choiceArg, durationArg, numberArg, statusArg, weightsArg } from './cli-values.js';

export const SIM_USAGE = `smppd-sim: an SMSC simulator (SMPP 3.4) for tests and benchmarks

Usage: smppd-sim [options]

  --host ADDR             listen address (default 127.0.0.1)
  --port N                listen port, 0 = any free port (default 2776)
  --latency D             delay before each response, e.g. 5ms (default 0: at once)
  --dlr-delay D           delay from response to receipt (default 1s)
  --receipt-first         send each receipt before its submit response (the race SMSCs produce)
  --receipt-lead D        ... this long before it, e.g. 20ms (default 0: in the same write)
  --dlr-outcome O         ${DLR_OUTCOMES.join('|')},
                          or a weighted mix such as delivered:9,undeliverable:1 (default delivered)
  --receipts F            text (Appendix B text) | tlv (TLVs only, empty short_message) | both (default text)
  --receipts-when W       requested (per registered_delivery) | always | never (default requested)
  --ids F                 message ids: hex | decimal | uuid (default hex)
  --receipt-ids S         same | decimal (hex ids written in decimal in receipts) (default same)
  --error-rate R          share of submits answered with --error-status (default 0)
  --error-status S        e.g. 0x08 or ESME_RSYSERR (default 0x08)
  --throttle-rate R       share of submits answered with ESME_RTHROTTLED 0x58 (default 0)
  --max-rate N            accept at most N submits per second, ESME_RTHROTTLED beyond (default 0: no limit)
  --no-submit-multi       answer submit_multi ESME_RINVCMDID (an SMSC without it)
  --system-id ID          accept only binds with this system_id (default: any)
  --password P            ... and this password (default: any)
  --own-system-id ID      system_id in bind responses (default smppd-sim)
  --window N              outstanding receipts (deliver_sm) per session (default 100)
  --incoming-window N     unanswered requests per session before ESME_RMSGQFUL, 0 = no limit (default 0)
  --dlr-session S         same (the submitting session, else one of its system_id) | random (default same)
  --max-messages N        messages remembered for query_sm/cancel_sm/replace_sm (default 500000)
  --seed N                seed for injected errors, outcome mixes and random sessions
  --stats-interval D      print counters this often (default 0: only at exit)
  --help                  print this help

Exit codes: 0 clean exit (SIGINT/SIGTERM), 1 bad usage, 2 runtime failure (e.g. port in use).
`;

export interface SimCli {
  options: SimulatorOptions;
  statsIntervalMs: number;
}

export type SimCliResult = { kind: 'help' } | { kind: 'run'; cli: SimCli };

/** Throws UsageError for unknown options or bad values. */
export function parseSimArgs(argv: string[]): SimCliResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        latency: { type: 'string' },
        'dlr-delay': { type: 'string' },
        'dlr-outcome': { type: 'string' },
        'receipt-first': { type: 'boolean' },
        'receipt-lead': { type: 'string' },
        receipts: { type: 'string' },
        'receipts-when': { type: 'string' },
        ids: { type: 'string' },
        'receipt-ids': { type: 'string' },
        'error-rate': { type: 'string' },
        'error-status': { type: 'string' },
        'throttle-rate': { type: 'string' },
        'max-rate': { type: 'string' },
        'no-submit-multi': { type: 'boolean' },
        'system-id': { type: 'string' },
        password: { type: 'string' },
        'own-system-id': { type: 'string' },
        window: { type: 'string' },
        'incoming-window': { type: 'string' },
        'dlr-session': { type: 'string' },
        'max-messages': { type: 'string' },
        seed: { type: 'string' },
        'stats-interval': { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help === true) return { kind: 'help' };
  const receiptFirst = values['receipt-first'] === true;
  const submitMulti = values['no-submit-multi'] !== true;
  const v = values as Record<string, string | undefined>;
  const o: SimulatorOptions = { ...DEFAULT_OPTIONS, port: 2776, dlrDelayMs: 1000 };
  if (v.host !== undefined) o.host = v.host;
  if (v.port !== undefined) o.port = numberArg('port', v.port, 0, 65535, true);
  if (v.latency !== undefined) o.latencyMs = durationArg('latency', v.latency);
  if (v['dlr-delay'] !== undefined) o.dlrDelayMs = durationArg('dlr-delay', v['dlr-delay']);
  o.receiptFirst = receiptFirst;
  if (v['receipt-lead'] !== undefined) o.receiptLeadMs = durationArg('receipt-lead', v['receipt-lead']);
  if (v['dlr-outcome'] !== undefined) {
    const text = v['dlr-outcome'];
    o.dlrOutcome = text.includes(':') || text.includes(',') ? weightsArg('dlr-outcome', text, DLR_OUTCOMES) : choiceArg('dlr-outcome', text, DLR_OUTCOMES);
  }
  if (v.receipts !== undefined) o.receipts = choiceArg('receipts', v.receipts, RECEIPT_FORMS);
  if (v['receipts-when'] !== undefined) o.receiptsWhen = choiceArg('receipts-when', v['receipts-when'], RECEIPTS_WHEN);
  if (v.ids !== undefined) o.ids = choiceArg('ids', v.ids, ID_FORMATS);
  if (v['receipt-ids'] !== undefined) o.receiptIds = choiceArg('receipt-ids', v['receipt-ids'], RECEIPT_ID_STYLES);
  if (v['error-rate'] !== undefined) o.errorRate = numberArg('error-rate', v['error-rate'], 0, 1);
  if (v['error-status'] !== undefined) o.errorStatus = statusArg('error-status', v['error-status']);
  if (v['throttle-rate'] !== undefined) o.throttleRate = numberArg('throttle-rate', v['throttle-rate'], 0, 1);
  o.submitMulti = submitMulti;
  if (v['max-rate'] !== undefined) o.maxRate = numberArg('max-rate', v['max-rate'], 0, Infinity, true);
  if (o.errorRate + o.throttleRate > 1) throw new UsageError('--error-rate plus --throttle-rate must be at most 1');
  if (v['system-id'] !== undefined) o.systemId = v['system-id'];
  if (v.password !== undefined) o.password = v.password;
  if (v['own-system-id'] !== undefined) o.ownSystemId = v['own-system-id'];
  if (v.window !== undefined) o.window = numberArg('window', v.window, 1, Infinity, true);
  if (v['incoming-window'] !== undefined) o.incomingWindow = numberArg('incoming-window', v['incoming-window'], 0, Infinity, true);
  if (v['dlr-session'] !== undefined) o.dlrSession = choiceArg('dlr-session', v['dlr-session'], DLR_SESSIONS);
  if (v['max-messages'] !== undefined) o.maxMessages = numberArg('max-messages', v['max-messages'], 1, Infinity, true);
  if (v.seed !== undefined) o.seed = numberArg('seed', v.seed, 0, 0xffffffff, true);
  const statsIntervalMs = v['stats-interval'] === undefined ? 0 : durationArg('stats-interval', v['stats-interval']);
  return { kind: 'run', cli: { options: o, statsIntervalMs } };
}

export { UsageError };
