// SPEC §3 `clusters`: upstream SMSC groups (endpoints) or the embedded `mock` SMSC.

import { z } from 'zod';
import {
  BIND_TYPES,
  duration,
  fraction,
  hostPort,
  nonEmptyString,
  nonNegativeInt,
  nonNegativeNumber,
  parseStatus,
  positiveInt,
  secretRule,
  statusCode,
  systemId,
  whenPresent,
} from './fields.js';

export const LOAD_BALANCERS = ['round_robin', 'weighted', 'least_connections', 'random', 'p2c'] as const;
/** How the SMSC writes its message ids in receipts (normalisation before matching). */
export const MESSAGE_ID_FORMATS = ['auto', 'hex', 'decimal', 'string'] as const;
/** SMPP 3.4 Appendix B stat values (smpp/dlr.ts STAT_OF_STATE): what receipt_stats may map to. */
export const RECEIPT_STATS = ['DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'ACCEPTD', 'UNKNOWN', 'REJECTD', 'ENROUTE'] as const;
/** How submit_multi goes to the cluster: as it came, as one submit_sm per destination, or as it came until the SMSC answers ESME_RINVCMDID. */
export const SUBMIT_MULTI_MODES = ['auto', 'native', 'split'] as const;
/** SMPP 3.4 §5.2.28 message_state values the mock can report, lower-cased; `none` sends no receipt. */
export const MOCK_DLR_STATES = ['delivered', 'expired', 'deleted', 'undeliverable', 'accepted', 'unknown', 'rejected', 'none'] as const;

const EndpointTlsSchema = z.strictObject({
  /** PEM CA bundle to verify the SMSC with (default: the system's CAs). */
  ca: nonEmptyString().optional(),
  /** SNI and certificate name when the address is an IP or differs from the certificate. */
  servername: nonEmptyString().optional(),
});

type EndpointTls = z.output<typeof EndpointTlsSchema>;

const EndpointSchema = z
  .strictObject({
    address: hostPort({ allowPortZero: false }),
    system_id: systemId(),
    password: z.string().optional(),
    password_file: nonEmptyString().optional(),
    system_type: z.string().max(12, { error: 'must be at most 12 characters (SMPP 3.4 §5.2.3)' }).default(''),
    weight: positiveInt().default(1),
    /** Sessions to this endpoint per proxy replica. */
    binds: positiveInt().default(1),
    /** Outstanding submit_sm per upstream session. */
    window: positiveInt().default(10),
    tls: z
      .union([z.boolean(), EndpointTlsSchema], { error: whenPresent('must be true, false or { ca, servername }') })
      .default(false)
      .transform((tls): EndpointTls | false => (tls === true ? {} : tls)),
  })
  .superRefine(secretRule('password', { required: false }))
  .transform((e) => ({ ...e, password: e.password ?? '' }));

const MOCK_RESPONSE_HINT = 'must be success or a command_status such as ESME_RTHROTTLED or 0x58';

const MockSchema = z.strictObject({
  /** command_status of every submit response (`success` = ESME_ROK). */
  response: z
    .union([z.number(), z.string()], { error: whenPresent(MOCK_RESPONSE_HINT) })
    .default('success')
    .transform((value, ctx) => {
      const code = value === 'success' ? 0 : parseStatus(value);
      if (code === undefined) {
        ctx.addIssue({ code: 'custom', message: MOCK_RESPONSE_HINT, input: value });
        return z.NEVER;
      }
      return code;
    }),
  latency: duration().prefault('0ms'),
  dlr: z.enum(MOCK_DLR_STATES).default('delivered'),
  dlr_delay: duration().prefault('1s'),
  /** Fraction of submits answered with error_status instead of `response`. */
  error_rate: fraction().default(0),
  error_status: statusCode().prefault('ESME_RSYSERR'),
  /** Fraction of submits answered with ESME_RTHROTTLED. */
  throttle_rate: fraction().default(0),
});

type RetryWord = 'timeout' | 'disconnect';
const RETRY_HINT = 'must be a command_status (0x58, ESME_RTHROTTLED), timeout or disconnect';

const retryCondition = () =>
  z.union([z.number(), z.string()], { error: whenPresent(RETRY_HINT) }).transform((value, ctx): number | RetryWord => {
    if (value === 'timeout' || value === 'disconnect') return value;
    const code = parseStatus(value);
    if (code === undefined) {
      ctx.addIssue({ code: 'custom', message: RETRY_HINT, input: value });
      return z.NEVER;
    }
    return code;
  });

const RetrySchema = z
  .strictObject({
    /** Attempts in total, the first included: 1 = never retry. */
    max_attempts: positiveInt().default(3),
    initial_backoff: duration().prefault('200ms'),
    max_backoff: duration().prefault('5s'),
    /** Transient outcomes worth another attempt (defaults: throttled, queue full, system error). */
    on: z
      .array(retryCondition())
      .prefault([0x58, 0x14, 0x08, 'timeout', 'disconnect'])
      .transform((list) => [...new Set(list)]),
  })
  .superRefine((r, ctx) => {
    if (r.max_backoff < r.initial_backoff) {
      ctx.addIssue({ code: 'custom', path: ['max_backoff'], message: 'must not be shorter than initial_backoff' });
    }
  });

const HealthCheckSchema = z
  .strictObject({
    interval: duration({ positive: true }).prefault('30s'),
    timeout: duration({ positive: true }).prefault('5s'),
  })
  .superRefine((h, ctx) => {
    if (h.timeout > h.interval) {
      ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'must not be longer than interval' });
    }
  });

export const ClusterSchema = z
  .strictObject({
    name: nonEmptyString(),
    endpoints: z.array(EndpointSchema).prefault([]),
    mock: MockSchema.optional(),
    bind_type: z.enum(BIND_TYPES).default('transceiver'),
    load_balancer: z.enum(LOAD_BALANCERS).default('round_robin'),
    circuit_breaker: z
      .strictObject({
        /** Consecutive failures that open the circuit of an endpoint. */
        threshold: positiveInt().default(5),
        /** How long it stays open before one trial request. */
        timeout: duration({ positive: true }).prefault('30s'),
      })
      .prefault({}),
    health_check: HealthCheckSchema.prefault({}),
    retry: RetrySchema.prefault({}),
    message_id: z.enum(MESSAGE_ID_FORMATS).default('auto'),
    submit_multi: z.enum(SUBMIT_MULTI_MODES).default('auto'),
    /**
     * command_status values of this SMSC's responses read as others, e.g. { 0x45: ESME_RTHROTTLED }
     * for an SMSC that says "throttled" its own way: retries, throttle_pause and the client see the
     * mapped status. Keys and values: numbers such as 0x58 or names such as ESME_RTHROTTLED.
     */
    status_map: z
      .record(z.string(), statusCode())
      .default({})
      .superRefine((map, ctx) => {
        for (const key of Object.keys(map)) {
          if (parseStatus(key) === undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'the key must be a command_status: a number such as 0x45 or a name' });
        }
      }),
    /**
     * The stat words of this SMSC's receipts that clients should read as another (SMPP 3.4
     * Appendix B) stat, e.g. { FAILED: UNDELIV }: the receipt's text and message_state are rewritten.
     */
    receipt_stats: z
      .record(
        z.string().regex(/^\S{1,16}$/, { error: 'a stat word: 1 to 16 characters without spaces' }),
        z.enum(RECEIPT_STATS, { error: `must be one of ${RECEIPT_STATS.join(', ')}` }),
      )
      .default({})
      .transform((map) => Object.fromEntries(Object.entries(map).map(([from, to]) => [from.toUpperCase(), to]))),
    /** Max submit_sm/s to this cluster, 0 = unlimited. */
    throughput: nonNegativeNumber().default(0),
    /** After an endpoint answers a submission ESME_RTHROTTLED, send nothing new to it for this long; 0 = never pause. */
    throttle_pause: duration().prefault('1s'),
    /** Max sessions per endpoint across all replicas, 0 = unlimited. */
    max_binds: nonNegativeInt().default(0),
  })
  .superRefine((c, ctx) => {
    // `endpoints: []` next to `mock` is accepted: the seed's example writes it that way.
    if (c.mock !== undefined && c.endpoints.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['mock'], message: 'cannot be combined with endpoints' });
    } else if (c.mock === undefined && c.endpoints.length === 0) {
      ctx.addIssue({ code: 'custom', path: [], message: 'needs endpoints or mock' });
    }
  });
