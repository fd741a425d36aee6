// Checks that span sections: unique names and references between listeners, clients, clusters and
// routes. They run even when other parts of the config are broken (so `--validate` lists every
// problem at once), hence the defensive reading of a possibly half-parsed value.

import type { z } from 'zod';

type Obj = Record<string, unknown>;

const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);

/** [index, item] for each object item of `root[key]` when it is a list. */
function items(root: Obj, key: string): Array<[number, Obj]> {
  const list = root[key];
  if (!Array.isArray(list)) return [];
  return list.flatMap((item, index): Array<[number, Obj]> => (isObj(item) ? [[index, item]] : []));
}

const str = (item: Obj, key: string): string | undefined => (typeof item[key] === 'string' ? item[key] : undefined);

/** Reports every repeat of `item[field]` within `root[section]`; returns the first holder of each value. */
function unique(root: Obj, section: string, field: string, what: string, ctx: z.RefinementCtx): Map<string, Obj> {
  const seen = new Map<string, Obj>();
  for (const [index, item] of items(root, section)) {
    const value = str(item, field);
    if (value === undefined) continue;
    if (seen.has(value)) {
      ctx.addIssue({ code: 'custom', path: [section, index, field], message: `duplicate ${what} "${value}"` });
    } else {
      seen.set(value, item);
    }
  }
  return seen;
}

/** Names are known only when every entry has a valid one; otherwise reference checks would add noise. */
function allNamed(root: Obj, section: string, field: string): boolean {
  const list = root[section];
  return list === undefined || (Array.isArray(list) && list.every((item) => isObj(item) && str(item, field) !== undefined));
}

export function checkCrossReferences(config: unknown, ctx: z.RefinementCtx): void {
  if (!isObj(config)) return;
  unique(config, 'listeners', 'name', 'listener name', ctx);
  checkListenerAddresses(config, ctx);
  const clients = unique(config, 'clients', 'system_id', 'system_id', ctx);
  checkMoAddresses(config, ctx);
  const clusters = unique(config, 'clusters', 'name', 'cluster name', ctx);
  unique(config, 'routes', 'name', 'route name', ctx);
  if (isObj(config.rebalance) && config.rebalance.enabled === true) {
    const backend = isObj(config.store) ? config.store.backend : undefined;
    if (backend !== 'redis') {
      const message = 'needs store.backend: redis (the replicas count their sessions there)';
      ctx.addIssue({ code: 'custom', path: ['rebalance', 'enabled'], message });
    }
  }

  const clustersKnown = allNamed(config, 'clusters', 'name');
  const clientsKnown = allNamed(config, 'clients', 'system_id');
  for (const [index, route] of items(config, 'routes')) {
    const cluster = str(route, 'cluster');
    if (cluster !== undefined && clustersKnown && !clusters.has(cluster)) {
      ctx.addIssue({ code: 'custom', path: ['routes', index, 'cluster'], message: `unknown cluster "${cluster}"` });
    }
    // A fallback naming a cluster that does not exist (yet) is only a warning (warnings.ts): SPEC §3's
    // example does exactly that (`fallback: [mcel]`) and must load.
    const fallback = Array.isArray(route.fallback) ? route.fallback : [];
    const tried = new Set(cluster === undefined ? [] : [cluster]);
    fallback.forEach((name: unknown, i) => {
      if (typeof name !== 'string') return;
      if (tried.has(name)) {
        const message = name === cluster ? `"${name}" is already the route's cluster` : `duplicate cluster "${name}"`;
        ctx.addIssue({ code: 'custom', path: ['routes', index, 'fallback', i], message });
      }
      tried.add(name);
    });
    const client = isObj(route.match) ? str(route.match, 'client') : undefined;
    if (client !== undefined && clientsKnown && !clients.has(client)) {
      ctx.addIssue({ code: 'custom', path: ['routes', index, 'match', 'client'], message: `unknown client "${client}"` });
    }
  }
}

/** Two listeners cannot bind one address (port 0 asks for a fresh port each time, so it may repeat). */
function checkListenerAddresses(config: Obj, ctx: z.RefinementCtx): void {
  const owners = new Map<string, string>();
  for (const [index, listener] of items(config, 'listeners')) {
    const address = str(listener, 'address');
    if (address === undefined || address.endsWith(':0')) continue;
    const owner = owners.get(address);
    if (owner !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['listeners', index, 'address'],
        message: `"${address}" is already used by listener "${owner}"`,
      });
    } else {
      owners.set(address, str(listener, 'name') ?? `#${index}`);
    }
  }
}

/** MO traffic to one address must have one owner, or delivery would depend on config order. */
function checkMoAddresses(config: Obj, ctx: z.RefinementCtx): void {
  const owners = new Map<string, string>();
  for (const [index, client] of items(config, 'clients')) {
    const systemId = str(client, 'system_id') ?? `#${index}`;
    const addresses = Array.isArray(client.mo_addresses) ? client.mo_addresses : [];
    addresses.forEach((address: unknown, i) => {
      if (typeof address !== 'string') return;
      const owner = owners.get(address);
      if (owner !== undefined) {
        const message = owner === systemId ? `duplicate address "${address}"` : `"${address}" already belongs to client "${owner}"`;
        ctx.addIssue({ code: 'custom', path: ['clients', index, 'mo_addresses', i], message });
      } else {
        owners.set(address, systemId);
      }
    });
  }
}
