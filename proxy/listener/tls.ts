// TLS options of a listener (SPEC §3 listeners[].tls): PEM files read at start, asynchronously.
// With `client_ca` the client must present a certificate signed by that CA (mutual TLS).

import { readFile } from 'node:fs/promises';
import type { TlsOptions } from 'node:tls';
import type { ListenerTlsConfig } from '../config/schema.js';

export async function loadTlsOptions(config: ListenerTlsConfig, handshakeTimeoutMs: number): Promise<TlsOptions> {
  const [cert, key, ca] = await Promise.all([
    readFile(config.cert),
    readFile(config.key),
    config.client_ca === undefined ? undefined : readFile(config.client_ca),
  ]);
  return {
    cert,
    key,
    handshakeTimeout: handshakeTimeoutMs,
    ...(ca === undefined ? {} : { ca, requestCert: true, rejectUnauthorized: true }),
  };
}
