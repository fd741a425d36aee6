// Things that load but probably are not what the operator wants. Reported next to a loaded config
// (log at start, body of a reload); never a reason to refuse it.

import { formatProblem, type Problem } from './problems.js';
import { parseHostPort } from './net.js';
import type { Config } from './schema.js';

export function configWarnings(config: Config): string[] {
  const warnings: Problem[] = [];
  const clusters = new Set(config.clusters.map((c) => c.name));
  config.routes.forEach((route, i) =>
    route.fallback.forEach((name, j) => {
      if (!clusters.has(name)) {
        warnings.push({ path: ['routes', i, 'fallback', j], message: `unknown cluster "${name}" is skipped` });
      }
    }),
  );
  if (config.listeners.length > 0 && config.clients.length === 0) {
    warnings.push({ path: ['clients'], message: 'empty, so every bind will be refused' });
  }
  const admin = parseHostPort(config.admin.address);
  if (config.admin.token === undefined && admin !== undefined && !isLoopback(admin.host)) {
    warnings.push({
      path: ['admin', 'token'],
      message: `not set, so /config, /sessions and POST endpoints on ${config.admin.address} answer loopback clients only`,
    });
  }
  return warnings.map(formatProblem);
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.');
