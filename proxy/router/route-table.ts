// Route table: message attributes + routes -> the route to use (SPEC §3 `routes`).
//
// Pure and compiled once per config load. `match()` runs for every submit_sm, so its cost must not
// grow with the number of prefix routes: routes are indexed by their destination (a character trie
// over prefixes, exact numbers at the trie node where the number ends) and, inside each index slot,
// by client system_id. A lookup walks at most `destination.length + 1` trie nodes and, per node,
// looks at the routes that could apply to this client only. See bench/router.ts (10 vs 10,000 routes).
//
// Address normalisation: a leading '+' is ignored on both sides for `prefix` and `exact`, so the
// prefix "+25884" matches "25884..." and "+25884...", and "25884" matches "+25884...". Clients send
// international numbers both ways (TON=1 with or without '+'), and operators write prefixes both ways.
// Nothing else is rewritten ("00" international prefixes, spaces): that needs a TON/NPI-aware
// normaliser and would surprise operators who route on national formats. `regex` sees the address
// exactly as received, so the operator stays in full control.
//
// `sender_id` is the alphanumeric sender: it is tested against source_addr only when
// source_addr_ton is 5 (alphanumeric, SMPP 3.4 §5.2.5). A route with a sender_id criterion never
// matches a numeric source; use `source` for numeric senders. `sender_id` values are compared as
// given (no '+' handling): alphanumeric senders are names such as "ACME", not numbers.

import { charCode } from '../smpp/string-calls.js';
import { addressMatches, addressTest, plusOffset, stripPlus, type AddressMatch, type AddressTest } from './address-test.js';

export type { AddressMatch } from './address-test.js';

/** Route criteria as in SPEC §3 `routes[].match`; all given criteria must match. */
export interface RouteCriteria {
  destination?: AddressMatch;
  source?: AddressMatch;
  sender_id?: AddressMatch;
  /** Exact client system_id. */
  client?: string;
}

/** A route as it appears in the config (minimal local shape; proxy/config's parsed routes fit it). */
export interface RouteInput {
  name: string;
  match?: RouteCriteria;
  cluster: string;
  fallback?: readonly string[];
  priority: number;
}

/** What the forwarder needs from a matched route. Returned objects are shared and frozen. */
export interface Route {
  readonly name: string;
  readonly cluster: string;
  /** Ordered clusters to try when `cluster` is open or unavailable. */
  readonly fallback: readonly string[];
  readonly priority: number;
}

/** The attributes of one message that routing looks at. */
export interface MessageAttributes {
  destination: string;
  source: string;
  /** source_addr_ton; 5 marks an alphanumeric sender (enables `sender_id` routes). */
  sourceTon?: number;
  /** system_id of the bound client that sent the message. */
  client: string;
}

/** Work done by one lookup, for tests and the benchmark. */
export interface MatchTrace {
  route: Route | undefined;
  /** Trie nodes visited, root included (<= destination length without '+', plus one). */
  nodesVisited: number;
  /** Routes whose remaining criteria were evaluated. */
  candidatesChecked: number;
}

export interface RouteTable {
  match(msg: MessageAttributes): Route | undefined;
  /** Same answer as match(), plus how much work it took. Not for the hot path. */
  trace(msg: MessageAttributes): MatchTrace;
  readonly size: number;
}

/** Stable codes for compile failures (config validation should catch these first). */
export const ROUTE_ERROR = {
  invalidRegex: 'ERR_ROUTE_INVALID_REGEX',
} as const;

export class RouteCompileError extends Error {
  readonly code: (typeof ROUTE_ERROR)[keyof typeof ROUTE_ERROR];
  readonly route: string;
  readonly path: string;
  constructor(code: RouteCompileError['code'], route: string, path: string, message: string) {
    super(message);
    this.name = 'RouteCompileError';
    this.code = code;
    this.route = route;
    this.path = path;
  }
}

const SOURCE_TON_ALPHANUMERIC = 5;

interface CompiledRoute {
  route: Route;
  priority: number;
  /** Position in the config: first match wins among equal priorities. */
  order: number;
  destination: AddressTest | undefined;
  source: AddressTest | undefined;
  senderId: AddressTest | undefined;
}

/**
 * Routes sharing one index slot, split by client so a table with per-client routes for the same
 * prefix still looks at one client's routes only. Each list is sorted by (priority, order) so a
 * scan stops at the first full match or as soon as nothing later can beat the best so far.
 */
interface Bucket {
  anyClient: CompiledRoute[];
  byClient: Map<string, CompiledRoute[]>;
}

interface TrieNode {
  /** Indexed by char code - '0'; numbers are digits, so this is the common case (see bench/router.ts). */
  digits: (TrieNode | undefined)[] | undefined;
  /** Any other character ('*', letters in short codes). */
  others: Map<number, TrieNode> | undefined;
  /** Routes whose destination prefix ends here. */
  prefix: Bucket | undefined;
  /** Routes whose exact destination ends here: they apply only when the whole number was consumed. */
  exact: Bucket | undefined;
}

function newNode(): TrieNode {
  return { digits: undefined, others: undefined, prefix: undefined, exact: undefined };
}

const ZERO = 0x30;

function child(node: TrieNode, code: number): TrieNode | undefined {
  const d = code - ZERO;
  if (d >= 0 && d <= 9) return node.digits === undefined ? undefined : node.digits[d];
  return node.others === undefined ? undefined : node.others.get(code);
}

function addChild(node: TrieNode, code: number): TrieNode {
  const next = newNode();
  const d = code - ZERO;
  if (d >= 0 && d <= 9) {
    node.digits ??= new Array<TrieNode | undefined>(10).fill(undefined);
    node.digits[d] = next;
  } else {
    node.others ??= new Map();
    node.others.set(code, next);
  }
  return next;
}

function newBucket(): Bucket {
  return { anyClient: [], byClient: new Map() };
}

function compileRegex(source: string, routeName: string, path: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw new RouteCompileError(
      ROUTE_ERROR.invalidRegex,
      routeName,
      path,
      `route ${routeName}: ${path}: invalid regular expression: ${(err as Error).message}`,
    );
  }
}

function compileAddress(
  m: AddressMatch | undefined,
  ignorePlus: boolean,
  routeName: string,
  path: string,
  skip: 'prefix' | 'exact' | undefined,
): AddressTest | undefined {
  if (m === undefined) return undefined;
  const regex = m.regex !== undefined ? compileRegex(m.regex, routeName, `${path}.regex`) : undefined;
  // The indexed part (destination prefix/exact) is left out: the trie checks it.
  return addressTest(m, ignorePlus, regex, skip);
}

function routeMatches(c: CompiledRoute, msg: MessageAttributes): boolean {
  if (c.destination !== undefined && !addressMatches(c.destination, msg.destination)) return false;
  if (c.source !== undefined && !addressMatches(c.source, msg.source)) return false;
  if (c.senderId !== undefined) {
    if (msg.sourceTon !== SOURCE_TON_ALPHANUMERIC) return false;
    if (!addressMatches(c.senderId, msg.source)) return false;
  }
  return true;
}

function precedes(a: CompiledRoute, b: CompiledRoute): boolean {
  return a.priority < b.priority || (a.priority === b.priority && a.order < b.order);
}

function byPrecedence(a: CompiledRoute, b: CompiledRoute): number {
  return a.priority - b.priority || a.order - b.order;
}

function addToBucket(bucket: Bucket, c: CompiledRoute, client: string | undefined): void {
  if (client === undefined) {
    bucket.anyClient.push(c);
    return;
  }
  let list = bucket.byClient.get(client);
  if (list === undefined) {
    list = [];
    bucket.byClient.set(client, list);
  }
  list.push(c);
}

function sortBucket(bucket: Bucket | undefined): void {
  if (bucket === undefined) return;
  bucket.anyClient.sort(byPrecedence);
  for (const list of bucket.byClient.values()) list.sort(byPrecedence);
}

/** Mutable scratch for one lookup; one per table, reused, since lookups are synchronous. */
interface Scan {
  best: CompiledRoute | undefined;
  checked: number;
}

function scanList(list: CompiledRoute[] | undefined, msg: MessageAttributes, scan: Scan): void {
  if (list === undefined) return;
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    // Sorted list: once a candidate cannot beat the best so far, none after it can either.
    if (scan.best !== undefined && !precedes(c, scan.best)) return;
    scan.checked++;
    if (routeMatches(c, msg)) {
      scan.best = c;
      return;
    }
  }
}

function scanBucket(bucket: Bucket | undefined, msg: MessageAttributes, scan: Scan): void {
  if (bucket === undefined) return;
  if (bucket.anyClient.length > 0) scanList(bucket.anyClient, msg, scan);
  if (bucket.byClient.size > 0) scanList(bucket.byClient.get(msg.client), msg, scan);
}

/** Compile routes (config order matters for ties) into a table. Throws RouteCompileError on a bad regex. */
export function compileRoutes(routes: readonly RouteInput[]): RouteTable {
  const root = newNode();
  // Routes without a destination prefix/exact: catch-alls, client-only, source/sender/regex routes.
  const unindexed = newBucket();
  const touched: TrieNode[] = [];

  routes.forEach((r, order) => {
    const m = r.match ?? {};
    const dest = m.destination;
    const indexBy = dest?.prefix !== undefined ? 'prefix' : dest?.exact !== undefined ? 'exact' : undefined;
    const route: Route = Object.freeze({
      name: r.name,
      cluster: r.cluster,
      fallback: Object.freeze([...(r.fallback ?? [])]),
      priority: r.priority,
    });
    const c: CompiledRoute = {
      route,
      priority: r.priority,
      order,
      destination: compileAddress(dest, true, r.name, 'match.destination', indexBy),
      source: compileAddress(m.source, true, r.name, 'match.source', undefined),
      senderId: compileAddress(m.sender_id, false, r.name, 'match.sender_id', undefined),
    };

    if (indexBy === undefined) {
      addToBucket(unindexed, c, m.client);
      return;
    }
    // When a route gives both prefix and exact, the trie holds the prefix and the exact is checked.
    const key = stripPlus(indexBy === 'prefix' ? dest!.prefix! : dest!.exact!);
    let node = root;
    for (let i = 0; i < key.length; i++) {
      const code = key.charCodeAt(i);
      node = child(node, code) ?? addChild(node, code);
    }
    // Remember each node once, so sorting after the loop stays O(n log n) with many routes per node.
    if (node.prefix === undefined && node.exact === undefined) touched.push(node);
    if (indexBy === 'prefix') node.prefix ??= newBucket();
    else node.exact ??= newBucket();
    addToBucket(indexBy === 'prefix' ? node.prefix! : node.exact!, c, m.client);
  });

  sortBucket(unindexed);
  for (const node of touched) {
    sortBucket(node.prefix);
    sortBucket(node.exact);
  }

  const scratch: Scan = { best: undefined, checked: 0 };

  function lookup(msg: MessageAttributes): number {
    scratch.best = undefined;
    scratch.checked = 0;
    const dest = msg.destination;
    let node: TrieNode | undefined = root;
    let visited = 1;
    scanBucket(root.prefix, msg, scratch);
    for (let i = plusOffset(dest); i < dest.length; i++) {
      node = child(node, charCode(dest, i));
      if (node === undefined) break;
      visited++;
      scanBucket(node.prefix, msg, scratch);
    }
    // The walk consumed the whole number only if the last node exists.
    if (node !== undefined) scanBucket(node.exact, msg, scratch);
    scanBucket(unindexed, msg, scratch);
    return visited;
  }

  return {
    size: routes.length,
    match(msg) {
      lookup(msg);
      return scratch.best?.route;
    },
    trace(msg) {
      const nodesVisited = lookup(msg);
      return { route: scratch.best?.route, nodesVisited, candidatesChecked: scratch.checked };
    },
  };
}
