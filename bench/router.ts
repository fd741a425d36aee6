// Route lookup throughput for small and large route tables.
//
// Justifies the trie in proxy/router/route-table.ts: lookups/s stay within a small factor from 10 to
// 10,000 prefix routes, while a linear scan (printed for reference) falls with the route count. The
// remaining drop at 10,000 comes from memory locality (10k+ trie nodes no longer fit in cache), not from
// checking more routes: route-table.test.ts asserts the candidates checked per lookup stay bounded.
// Prints, asserts nothing.
import { compileRoutes, type MessageAttributes, type RouteInput } from '../proxy/router/route-table.js';

const LOOKUPS = 1_000_000;

// Small deterministic PRNG (mulberry32) so runs are comparable.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function buildRoutes(count: number): RouteInput[] {
  const routes: RouteInput[] = [];
  for (let i = 0; i < count; i++) {
    // "+258" + a 4..5-digit block: distinct prefixes of mixed length, like operator number ranges.
    const block = String(i).padStart(count > 10_000 ? 5 : 4, '0');
    routes.push({
      name: `r${i}`,
      cluster: `c${i % 8}`,
      priority: i % 3,
      match: { destination: { prefix: `+258${block}` }, ...(i % 10 === 0 ? { client: `client-${i % 50}` } : {}) },
    });
  }
  routes.push({ name: 'default', cluster: 'default', priority: 100, match: {} });
  return routes;
}

function buildMessages(n: number): MessageAttributes[] {
  const rnd = prng(42);
  const out: MessageAttributes[] = [];
  for (let i = 0; i < n; i++) {
    let digits = '258';
    for (let d = 0; d < 9; d++) digits += Math.floor(rnd() * 10);
    out.push({
      destination: i % 2 === 0 ? `+${digits}` : digits,
      source: '258820000001',
      client: `client-${Math.floor(rnd() * 50)}`,
    });
  }
  return out;
}

// The naive alternative: every route in (priority, order), first whose prefix and client match.
// Handles only the criteria buildRoutes() uses; '+' stripped as the table does.
function linearMatcher(routes: RouteInput[]): (m: MessageAttributes) => string | undefined {
  const sorted = routes
    .map((r, order) => ({ r, order, prefix: r.match?.destination?.prefix?.replace(/^\+/, '') }))
    .sort((a, b) => a.r.priority - b.r.priority || a.order - b.order);
  return (m) => {
    const off = m.destination.startsWith('+') ? 1 : 0;
    for (const { r, prefix } of sorted) {
      if (prefix !== undefined && !m.destination.startsWith(prefix, off)) continue;
      if (r.match?.client !== undefined && r.match.client !== m.client) continue;
      return r.name;
    }
    return undefined;
  };
}

function measure(label: string, count: number, lookups: number, fn: (m: MessageAttributes) => unknown): void {
  let hits = 0;
  // Warm up so the JIT has compiled the lookup before timing.
  for (let i = 0; i < lookups / 10; i++) if (fn(messages[i & 4095]!) !== undefined) hits++;
  hits = 0;
  const start = performance.now();
  for (let i = 0; i < lookups; i++) if (fn(messages[i & 4095]!) !== undefined) hits++;
  const seconds = (performance.now() - start) / 1000;
  const rate = Math.round(lookups / seconds).toLocaleString('en-US');
  console.log(`router ${label}: ${String(count).padStart(6)} routes  ${rate.padStart(12)} lookups/s  (${hits} matched)`);
}

const messages = buildMessages(4096);

for (const count of [10, 1_000, 10_000]) {
  const routes = buildRoutes(count);
  const table = compileRoutes(routes);
  measure('table ', count, LOOKUPS, (m) => table.match(m));
  // Fewer lookups: at 10,000 routes the linear scan is slow enough that 1M would take minutes.
  measure('linear', count, Math.max(20_000, LOOKUPS / count) | 0, linearMatcher(routes));
}
