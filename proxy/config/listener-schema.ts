// SPEC §3 `listeners`: where clients connect, with limits and the bind/submit filters.

import { z } from 'zod';
import { cidr, duration, hostPort, nonEmptyString, positiveInt, positiveNumber } from './fields.js';

// Paths to PEM files; the listener reads them (load.ts only checks they are readable).
const ListenerTlsSchema = z.strictObject({
  cert: nonEmptyString(),
  key: nonEmptyString(),
  /** When given, clients must present a certificate signed by this CA. */
  client_ca: nonEmptyString().optional(),
});

const LimitsSchema = z.strictObject({
  max_connections: positiveInt().default(1000),
  /** No PDU for this long -> unbind, then close. 0 disables the check. */
  idle_timeout: duration().prefault('60s'),
  /** Budget to answer a client's request, retries included. */
  request_timeout: duration({ positive: true }).prefault('30s'),
  /** Outstanding requests one client session may have. */
  window: positiveInt().default(100),
});

/** Deny wins over allow; an empty allow list allows every address not denied. */
const FirewallSchema = z.strictObject({
  allow: z.array(cidr()).prefault([]),
  deny: z.array(cidr()).prefault([]),
});

/** Token bucket per client system_id; burst defaults to one second's worth. */
const RateLimitSchema = z
  .strictObject({
    requests_per_second: positiveNumber().default(100),
    burst: positiveInt().optional(),
  })
  .transform((c) => ({
    requests_per_second: c.requests_per_second,
    burst: c.burst ?? Math.max(1, Math.ceil(c.requests_per_second)),
  }));

const FilterSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('firewall'), config: FirewallSchema.prefault({}) }),
  z.strictObject({ type: z.literal('rate_limit'), config: RateLimitSchema.prefault({}) }),
]);

export const ListenerSchema = z.strictObject({
  name: nonEmptyString(),
  address: hostPort({ allowPortZero: true }),
  protocol: z.enum(['smpp34']).default('smpp34'),
  tls: ListenerTlsSchema.optional(),
  limits: LimitsSchema.prefault({}),
  /** Applied in order. */
  filters: z.array(FilterSchema).prefault([]),
});
