// What a config reload changes (SPEC §3 "Invalid config on reload", §6 SIGHUP, issue 4): the running
// config against a new one, section by section, with what each change costs. Pure and synchronous;
// app.ts applies the result, and `summary` is the body of POST /config/reload's 200 answer.
//
// Cost rules (SPEC §6, FIELD-NOTES §5 "apply config changes without dropping binds"):
//   listeners  address or TLS on/off -> the accept socket re-opens (bound sessions stay);
//              TLS files -> new certificate for new connections; limits and filters -> in place
//   clients    added / removed (its sessions are unbound) / changed in place (a new password does
//              not drop a bound session: it applies to the next bind)
//   clusters   endpoints are matched by address + system_id; a changed password, system_type, tls
//              or the cluster's bind_type re-binds that endpoint; weight, window, binds and every
//              cluster setting change in place; mock <-> endpoints replaces the cluster
//   routes     any change swaps the route table at once
//   store, admin.address  need a restart: reported, not applied (the running ones are kept)

import type { ClusterConfig, Config, EndpointConfig, ListenerConfig, LogLevel } from './schema.js';

export interface ListenerChange {
  name: string;
  /** Address changed, or TLS turned on or off: the listener re-opens its accept socket. */
  reopen: boolean;
  /** TLS files changed (TLS on before and after): new connections get the new certificate. */
  tls: boolean;
  /** Keys of `limits` that changed (applied in place). */
  limits: string[];
  /** The filter list changed (recompiled in place; rate-limit buckets start full). */
  filters: boolean;
}

export interface EndpointChange {
  /** `system_id@address`. */
  endpoint: string;
  fields: string[];
}

export interface EndpointChanges {
  added: string[];
  removed: string[];
  /** Address or credentials changed: new sessions replace the old ones. */
  rebind: EndpointChange[];
  /** Changed in place on the live sessions (weight, window, binds). */
  updated: EndpointChange[];
}

export interface ClusterChange {
  name: string;
  /** Cluster settings changed in place (load_balancer, retry, throughput, ...). */
  settings: string[];
  endpoints: EndpointChanges;
}

export interface ConfigDiff {
  listeners: { added: string[]; removed: string[]; changed: ListenerChange[] };
  clients: { added: string[]; removed: string[]; changed: Array<{ systemId: string; fields: string[] }> };
  clusters: {
    added: string[];
    removed: string[];
    /** Mock <-> endpoints: a new cluster under the same name. */
    replaced: string[];
    changed: ClusterChange[];
  };
  routes: { changed: boolean; added: string[]; removed: string[]; modified: string[]; reordered: boolean };
  log: { level?: { from: LogLevel; to: LogLevel } };
  shutdown: { drainTimeoutMs?: { from: number; to: number } };
  /** admin token (or its file) changed: the admin API asks for the new one from now on. */
  adminToken: boolean;
  /** Config paths whose change needs a restart; the running values are kept (see appliedConfig). */
  restartNeeded: string[];
  /** One line per change, for the log and POST /config/reload. */
  summary: string[];
  /** What was not applied and why. */
  warnings: string[];
  /** Nothing differs. */
  empty: boolean;
}

/** Endpoint fields whose change needs a new session (with the cluster's bind_type). */
export const ENDPOINT_SESSION_FIELDS = ['address', 'system_id', 'password', 'system_type', 'tls'] as const;

/** Same address + system_id (the endpoint's identity), but a session bound with `a` is not one `b` would bind. */
export function endpointSessionChanged(a: EndpointConfig, b: EndpointConfig): boolean {
  return ENDPOINT_SESSION_FIELDS.some((key) => !sameValue(a[key], b[key]));
}

/** Deep equality of plain config data (objects, arrays, primitives). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => sameValue(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!sameValue(ao[k], bo[k])) return false;
  return true;
}

/** Keys whose values differ, in first-seen order (`except` left out). */
function changedKeys(a: object, b: object, except: readonly string[] = []): string[] {
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const out: string[] = [];
  for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) {
    if (!except.includes(k) && !sameValue(ao[k], bo[k])) out.push(k);
  }
  return out;
}

/** Items of two lists matched by `key`: added (in `b` only), removed (in `a` only), both. */
function matchBy<T>(a: readonly T[], b: readonly T[], key: (item: T) => string) {
  const before = new Map(a.map((item) => [key(item), item]));
  const after = new Map(b.map((item) => [key(item), item]));
  return {
    added: b.filter((item) => !before.has(key(item))).map(key),
    removed: a.filter((item) => !after.has(key(item))).map(key),
    both: b.flatMap((item) => {
      const old = before.get(key(item));
      return old === undefined ? [] : [{ before: old, after: item }];
    }),
  };
}

const endpointLabel = (e: EndpointConfig): string => `${e.system_id}@${e.address}`;
const endpointIdentity = (e: EndpointConfig): string => `${e.address}\u0000${e.system_id}`;

function diffListener(a: ListenerConfig, b: ListenerConfig): ListenerChange | undefined {
  const change: ListenerChange = {
    name: b.name,
    reopen: a.address !== b.address || (a.tls === undefined) !== (b.tls === undefined),
    tls: a.tls !== undefined && b.tls !== undefined && !sameValue(a.tls, b.tls),
    limits: changedKeys(a.limits, b.limits),
    filters: !sameValue(a.filters, b.filters),
  };
  const other = changedKeys(a, b, ['name', 'address', 'tls', 'limits', 'filters']);
  const any = change.reopen || change.tls || change.limits.length > 0 || change.filters || other.length > 0;
  return any ? change : undefined;
}

function diffEndpoints(a: ClusterConfig, b: ClusterConfig): EndpointChanges {
  const out: EndpointChanges = { added: [], removed: [], rebind: [], updated: [] };
  const rebindAll = a.bind_type !== b.bind_type;
  // By identity, in order: an identity may repeat within a cluster.
  const pool = new Map<string, EndpointConfig[]>();
  for (const e of a.endpoints) {
    const list = pool.get(endpointIdentity(e));
    if (list === undefined) pool.set(endpointIdentity(e), [e]);
    else list.push(e);
  }
  for (const e of b.endpoints) {
    const old = pool.get(endpointIdentity(e))?.shift();
    if (old === undefined) {
      out.added.push(endpointLabel(e));
      continue;
    }
    const sessionFields: string[] = ENDPOINT_SESSION_FIELDS.filter((k) => !sameValue(old[k], e[k]));
    if (rebindAll) sessionFields.push('bind_type');
    const inPlace = changedKeys(old, e, ENDPOINT_SESSION_FIELDS);
    if (sessionFields.length > 0) out.rebind.push({ endpoint: endpointLabel(e), fields: [...sessionFields, ...inPlace] });
    else if (inPlace.length > 0) out.updated.push({ endpoint: endpointLabel(e), fields: inPlace });
  }
  for (const rest of pool.values()) out.removed.push(...rest.map(endpointLabel));
  return out;
}

function diffRoutes(a: Config['routes'], b: Config['routes']): ConfigDiff['routes'] {
  const m = matchBy(a, b, (r) => r.name);
  const modified = m.both.filter((p) => !sameValue(p.before, p.after)).map((p) => p.after.name);
  // First match among equal priorities: the order of the routes that stay matters too.
  const kept = new Set(m.both.map((p) => p.after.name));
  const orderBefore = a.map((r) => r.name).filter((n) => kept.has(n));
  const orderAfter = b.map((r) => r.name).filter((n) => kept.has(n));
  const reordered = !sameValue(orderBefore, orderAfter);
  const changed = m.added.length > 0 || m.removed.length > 0 || modified.length > 0 || reordered;
  return { changed, added: m.added, removed: m.removed, modified, reordered };
}

export function diffConfig(current: Config, next: Config): ConfigDiff {
  const summary: string[] = [];
  const warnings: string[] = [];

  // Listeners.
  const l = matchBy(current.listeners, next.listeners, (x) => x.name);
  const listenerChanges = l.both.flatMap((p) => diffListener(p.before, p.after) ?? []);
  for (const name of l.added) summary.push(`listener ${name}: added`);
  for (const name of l.removed) summary.push(`listener ${name}: removed (its sessions are unbound)`);
  for (const c of listenerChanges) {
    const parts: string[] = [];
    if (c.reopen) parts.push('re-opened (bound sessions stay)');
    if (c.tls) parts.push('new TLS files for new connections');
    if (c.limits.length > 0) parts.push(`limits ${c.limits.join(', ')} changed`);
    if (c.filters) parts.push('filters changed');
    summary.push(`listener ${c.name}: ${parts.length > 0 ? parts.join('; ') : 'changed'}`);
  }

  // Clients.
  const c = matchBy(current.clients, next.clients, (x) => x.system_id);
  const clientChanges = c.both.flatMap((p) => {
    const fields = changedKeys(p.before, p.after);
    return fields.length > 0 ? [{ systemId: p.after.system_id, fields }] : [];
  });
  for (const id of c.added) summary.push(`client ${id}: added`);
  for (const id of c.removed) summary.push(`client ${id}: removed (its sessions are unbound)`);
  for (const ch of clientChanges) {
    const after = next.clients.find((x) => x.system_id === ch.systemId)!;
    const fields = ch.fields.filter((f) => f !== 'enabled');
    if (ch.fields.includes('enabled')) summary.push(`client ${ch.systemId}: ${after.enabled ? 'enabled' : 'disabled (its sessions are unbound)'}`);
    if (fields.length > 0) summary.push(`client ${ch.systemId}: ${fields.join(', ')} changed${after.enabled ? ' (bound sessions stay)' : ''}`);
  }

  // Clusters.
  const k = matchBy(current.clusters, next.clusters, (x) => x.name);
  const replaced: string[] = [];
  const clusterChanges: ClusterChange[] = [];
  for (const { before, after } of k.both) {
    if ((before.mock === undefined) !== (after.mock === undefined)) {
      replaced.push(after.name);
      continue;
    }
    const settings = changedKeys(before, after, ['name', 'endpoints']);
    const endpoints = diffEndpoints(before, after);
    const epChanged =
      endpoints.added.length + endpoints.removed.length + endpoints.rebind.length + endpoints.updated.length > 0;
    if (settings.length > 0 || epChanged) clusterChanges.push({ name: after.name, settings, endpoints });
  }
  for (const name of k.added) summary.push(`cluster ${name}: added`);
  for (const name of k.removed) summary.push(`cluster ${name}: removed (closes once its requests are answered)`);
  for (const name of replaced) summary.push(`cluster ${name}: replaced (mock <-> endpoints)`);
  for (const ch of clusterChanges) {
    if (ch.settings.length > 0) summary.push(`cluster ${ch.name}: ${ch.settings.join(', ')} changed`);
    const e = ch.endpoints;
    for (const x of e.added) summary.push(`cluster ${ch.name}: endpoint ${x} added`);
    for (const x of e.removed) summary.push(`cluster ${ch.name}: endpoint ${x} removed`);
    for (const x of e.rebind) summary.push(`cluster ${ch.name}: endpoint ${x.endpoint} re-bound (${x.fields.join(', ')} changed)`);
    for (const x of e.updated) summary.push(`cluster ${ch.name}: endpoint ${x.endpoint} ${x.fields.join(', ')} changed (sessions stay)`);
  }

  // Routes.
  const routes = diffRoutes(current.routes, next.routes);
  if (routes.changed) {
    const parts: string[] = [];
    if (routes.added.length > 0) parts.push(`added ${routes.added.join(', ')}`);
    if (routes.removed.length > 0) parts.push(`removed ${routes.removed.join(', ')}`);
    if (routes.modified.length > 0) parts.push(`changed ${routes.modified.join(', ')}`);
    if (routes.reordered) parts.push('order changed');
    summary.push(`routes: ${parts.join('; ')}`);
  }

  // Store, admin, log, shutdown.
  const restartNeeded: string[] = [];
  for (const key of changedKeys(current.store, next.store)) restartNeeded.push(`store.${key}`);
  if (current.admin.address !== next.admin.address) restartNeeded.push('admin.address');
  for (const path of restartNeeded) warnings.push(`${path}: changed, takes effect after a restart (the running value is kept)`);
  const adminToken = !sameValue(current.admin.token, next.admin.token) || current.admin.token_file !== next.admin.token_file;
  if (adminToken) summary.push('admin: token changed');
  const log: ConfigDiff['log'] = {};
  if (current.log.level !== next.log.level) {
    log.level = { from: current.log.level, to: next.log.level };
    summary.push(`log.level: ${current.log.level} -> ${next.log.level}`);
  }
  // rebalance: read at each of its ticks from the running config (listener/rebalance.ts).
  if (!sameValue(current.rebalance, next.rebalance)) summary.push('rebalance: changed');
  const shutdown: ConfigDiff['shutdown'] = {};
  if (current.shutdown.drain_timeout !== next.shutdown.drain_timeout) {
    shutdown.drainTimeoutMs = { from: current.shutdown.drain_timeout, to: next.shutdown.drain_timeout };
    summary.push(`shutdown.drain_timeout: ${current.shutdown.drain_timeout} ms -> ${next.shutdown.drain_timeout} ms`);
  }

  return {
    listeners: { added: l.added, removed: l.removed, changed: listenerChanges },
    clients: { added: c.added, removed: c.removed, changed: clientChanges },
    clusters: { added: k.added, removed: k.removed, replaced, changed: clusterChanges },
    routes,
    log,
    shutdown,
    adminToken,
    restartNeeded,
    summary,
    warnings,
    empty: summary.length === 0 && warnings.length === 0,
  };
}

/**
 * The config that runs after applying `next`: `next`, except the parts that need a restart, which
 * keep their running values (so GET /config shows what is in force, and the next reload reports
 * the pending change again).
 */
export function appliedConfig(current: Config, next: Config): Config {
  const store = sameValue(current.store, next.store) ? next.store : current.store;
  const admin = current.admin.address === next.admin.address ? next.admin : { ...next.admin, address: current.admin.address };
  return { ...next, store, admin };
}
