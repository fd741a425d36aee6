import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileRoutes, ROUTE_ERROR, RouteCompileError, type AddressMatch, type MessageAttributes, type RouteInput } from './route-table.js';

const msg = (over: Partial<MessageAttributes> = {}): MessageAttributes => ({
  destination: '258841234567',
  source: '258820000001',
  client: 'acme',
  ...over,
});

const route = (name: string, over: Partial<RouteInput> = {}): RouteInput => ({
  name,
  cluster: `${name}-cluster`,
  priority: 10,
  ...over,
});

const nameOf = (routes: RouteInput[], m: MessageAttributes): string | undefined => compileRoutes(routes).match(m)?.name;

describe('route table: precedence', () => {
  it('lowest priority number wins regardless of config order', () => {
    const routes = [
      route('wide', { priority: 5, match: { destination: { prefix: '258' } } }),
      route('narrow', { priority: 1, match: { destination: { prefix: '25884' } } }),
      route('all', { priority: 0 }),
    ];
    expect(nameOf(routes, msg())).toBe('all');
    expect(nameOf(routes.slice(0, 2), msg())).toBe('narrow');
  });

  it('among equal priorities the first in config order wins, not the longest prefix', () => {
    const routes = [
      route('short', { match: { destination: { prefix: '258' } } }),
      route('long', { match: { destination: { prefix: '25884' } } }),
    ];
    expect(nameOf(routes, msg())).toBe('short');
    expect(nameOf([...routes].reverse(), msg())).toBe('long');
  });

  it('first match among equals holds across index kinds (catch-all listed before a prefix route)', () => {
    const routes = [route('catch-all'), route('prefix', { match: { destination: { prefix: '25884' } } })];
    expect(nameOf(routes, msg())).toBe('catch-all');
  });

  it('a higher-precedence route that does not match falls through to the next one', () => {
    const routes = [
      route('other-client', { priority: 1, match: { destination: { prefix: '258' }, client: 'globex' } }),
      route('fallthrough', { priority: 2, match: { destination: { prefix: '258' } } }),
    ];
    expect(nameOf(routes, msg())).toBe('fallthrough');
  });

  it('no matching route -> undefined', () => {
    const routes = [route('mz', { match: { destination: { prefix: '258' } } })];
    expect(compileRoutes(routes).match(msg({ destination: '27821234567' }))).toBeUndefined();
    expect(compileRoutes([]).match(msg())).toBeUndefined();
  });

  it('carries cluster, fallback list and priority of the matched route', () => {
    const routes = [
      route('vodacom-route', {
        priority: 1,
        cluster: 'vodacom',
        fallback: ['mcel', 'movitel'],
        match: { destination: { prefix: '+25884' }, client: 'acme' },
      }),
    ];
    expect(compileRoutes(routes).match(msg())).toEqual({
      name: 'vodacom-route',
      cluster: 'vodacom',
      fallback: ['mcel', 'movitel'],
      priority: 1,
    });
    expect(compileRoutes([route('r')]).match(msg())?.fallback).toEqual([]);
  });

  it('the compiled table does not see later changes to the input', () => {
    const fallback = ['a'];
    const routes = [route('r', { fallback })];
    const table = compileRoutes(routes);
    fallback.push('b');
    routes[0]!.cluster = 'changed';
    expect(table.match(msg())).toMatchObject({ cluster: 'r-cluster', fallback: ['a'] });
  });
});

describe('route table: destination', () => {
  it('prefix matches with or without + on either side', () => {
    const plusRoute = [route('r', { match: { destination: { prefix: '+25884' } } })];
    const bareRoute = [route('r', { match: { destination: { prefix: '25884' } } })];
    for (const routes of [plusRoute, bareRoute]) {
      expect(nameOf(routes, msg({ destination: '258841234567' }))).toBe('r');
      expect(nameOf(routes, msg({ destination: '+258841234567' }))).toBe('r');
      expect(nameOf(routes, msg({ destination: '258821234567' }))).toBeUndefined();
      expect(nameOf(routes, msg({ destination: '2588' }))).toBeUndefined();
    }
  });

  it('exact matches the whole number only, ignoring a leading +', () => {
    const routes = [route('r', { match: { destination: { exact: '+258841234567' } } })];
    expect(nameOf(routes, msg({ destination: '258841234567' }))).toBe('r');
    expect(nameOf(routes, msg({ destination: '+258841234567' }))).toBe('r');
    expect(nameOf(routes, msg({ destination: '2588412345678' }))).toBeUndefined();
    expect(nameOf(routes, msg({ destination: '25884123456' }))).toBeUndefined();
  });

  it('regex sees the destination as received', () => {
    const routes = [route('r', { match: { destination: { regex: '^\\+?25884\\d{7}$' } } })];
    expect(nameOf(routes, msg({ destination: '+258841234567' }))).toBe('r');
    expect(nameOf(routes, msg({ destination: '258841234567' }))).toBe('r');
    expect(nameOf(routes, msg({ destination: '25884123456' }))).toBeUndefined();
  });

  it('prefix and regex given together must both match', () => {
    const routes = [route('r', { match: { destination: { prefix: '258', regex: '7$' } } })];
    expect(nameOf(routes, msg({ destination: '258841234567' }))).toBe('r');
    expect(nameOf(routes, msg({ destination: '258841234568' }))).toBeUndefined();
  });

  it('empty prefix matches every destination', () => {
    const routes = [route('r', { match: { destination: { prefix: '' } } })];
    expect(nameOf(routes, msg({ destination: '1' }))).toBe('r');
    expect(nameOf(routes, msg({ destination: '' }))).toBe('r');
  });

  it('alphanumeric characters in prefixes work like digits', () => {
    const routes = [route('r', { match: { destination: { prefix: 'TEST' } } })];
    expect(nameOf(routes, msg({ destination: 'TEST123' }))).toBe('r');
    expect(nameOf(routes, msg({ destination: 'TES' }))).toBeUndefined();
  });
});

describe('route table: source, sender_id, client', () => {
  it('source by prefix, exact and regex', () => {
    expect(nameOf([route('r', { match: { source: { prefix: '+25882' } } })], msg())).toBe('r');
    expect(nameOf([route('r', { match: { source: { prefix: '25884' } } })], msg())).toBeUndefined();
    expect(nameOf([route('r', { match: { source: { exact: '258820000001' } } })], msg())).toBe('r');
    expect(nameOf([route('r', { match: { source: { exact: '25882000000' } } })], msg())).toBeUndefined();
    expect(nameOf([route('r', { match: { source: { regex: '1$' } } })], msg())).toBe('r');
    expect(nameOf([route('r', { match: { source: { regex: '2$' } } })], msg())).toBeUndefined();
  });

  it('sender_id matches source_addr only for alphanumeric senders (TON 5)', () => {
    const routes = [
      route('brand', { priority: 1, match: { sender_id: { exact: 'ACME' } } }),
      route('brand-prefix', { priority: 2, match: { sender_id: { prefix: 'BANK' } } }),
      route('default', { priority: 9 }),
    ];
    expect(nameOf(routes, msg({ source: 'ACME', sourceTon: 5 }))).toBe('brand');
    expect(nameOf(routes, msg({ source: 'BANKXYZ', sourceTon: 5 }))).toBe('brand-prefix');
    expect(nameOf(routes, msg({ source: 'ACME', sourceTon: 1 }))).toBe('default');
    expect(nameOf(routes, msg({ source: 'ACME' }))).toBe('default');
    expect(nameOf(routes, msg({ source: 'acme', sourceTon: 5 }))).toBe('default');
  });

  it('sender_id by regex', () => {
    const routes = [route('r', { match: { sender_id: { regex: '^(ACME|GLOBEX)$' } } })];
    expect(nameOf(routes, msg({ source: 'GLOBEX', sourceTon: 5 }))).toBe('r');
    expect(nameOf(routes, msg({ source: 'INITECH', sourceTon: 5 }))).toBeUndefined();
  });

  it('client-only routes send one client\'s traffic anywhere to its cluster', () => {
    const routes = [
      route('acme-only', { priority: 1, match: { client: 'acme' } }),
      route('rest', { priority: 2 }),
    ];
    expect(nameOf(routes, msg({ client: 'acme', destination: '999' }))).toBe('acme-only');
    expect(nameOf(routes, msg({ client: 'globex' }))).toBe('rest');
  });

  it('client is an exact, case-sensitive system_id', () => {
    const routes = [route('r', { match: { client: 'acme' } })];
    expect(nameOf(routes, msg({ client: 'ACME' }))).toBeUndefined();
    expect(nameOf(routes, msg({ client: 'acme2' }))).toBeUndefined();
  });

  it('all given criteria must match', () => {
    const routes = [
      route('r', {
        match: { destination: { prefix: '25884' }, source: { prefix: '25882' }, client: 'acme' },
      }),
    ];
    expect(nameOf(routes, msg())).toBe('r');
    expect(nameOf(routes, msg({ destination: '25886' }))).toBeUndefined();
    expect(nameOf(routes, msg({ source: '25886' }))).toBeUndefined();
    expect(nameOf(routes, msg({ client: 'globex' }))).toBeUndefined();
  });

  it('per-client routes on the same prefix pick the sending client\'s route', () => {
    const routes = ['a', 'b', 'c'].map((c, i) =>
      route(`r-${c}`, { priority: 3 - i, match: { destination: { prefix: '258' }, client: c } }),
    );
    expect(nameOf(routes, msg({ client: 'a' }))).toBe('r-a');
    expect(nameOf(routes, msg({ client: 'c' }))).toBe('r-c');
    expect(nameOf(routes, msg({ client: 'd' }))).toBeUndefined();
  });
});

describe('route table: compile errors', () => {
  it('an invalid regex names the route and path with a stable code', () => {
    let caught: unknown;
    try {
      compileRoutes([route('bad', { match: { source: { regex: '(' } } })]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RouteCompileError);
    expect(caught).toMatchObject({ code: ROUTE_ERROR.invalidRegex, route: 'bad', path: 'match.source.regex' });
  });
});

describe('route table: lookup cost', () => {
  // 10,000 distinct 7-digit prefixes under "258", all at one priority, plus a catch-all at the end.
  const many: RouteInput[] = [];
  for (let i = 0; i < 10_000; i++) {
    many.push(route(`p${i}`, { match: { destination: { prefix: `+258${String(i).padStart(4, '0')}` } } }));
  }
  many.push(route('default', { priority: 100 }));
  const table = compileRoutes(many);

  it('matches the right route among 10,000 prefix routes', () => {
    expect(table.size).toBe(10_001);
    expect(table.match(msg({ destination: '+25812345678' }))?.name).toBe('p1234');
    expect(table.match(msg({ destination: '25899990000' }))?.name).toBe('p9999');
    expect(table.match(msg({ destination: '27821234567' }))?.name).toBe('default');
  });

  it('visits at most one trie node per digit and checks a bounded number of routes', () => {
    for (const destination of ['+25812345678', '25800000000', '25899991234', '27821234567', '2']) {
      const t = table.trace(msg({ destination }));
      expect(t.nodesVisited).toBeLessThanOrEqual(destination.replace(/^\+/, '').length + 1);
      // At most the one prefix route on the path plus the catch-all.
      expect(t.candidatesChecked).toBeLessThanOrEqual(2);
    }
  });

  it('per-client routes on one prefix do not add work for other clients', () => {
    const perClient: RouteInput[] = [];
    for (let i = 0; i < 5_000; i++) {
      perClient.push(route(`c${i}`, { match: { destination: { prefix: '258' }, client: `client-${i}` } }));
    }
    const t = compileRoutes(perClient).trace(msg({ client: 'client-4321' }));
    expect(t.route?.name).toBe('c4321');
    expect(t.candidatesChecked).toBe(1);
  });
});

// The compiled table (trie, buckets by client, early exits) against the rule it implements, written
// the slow way: of the routes whose every criterion holds, the lowest (priority, config order).
describe('route table: against a linear scan of the rule', () => {
  const stripPlus = (s: string): string => (s.startsWith('+') ? s.slice(1) : s);
  function holds(m: AddressMatch | undefined, value: string, ignorePlus: boolean): boolean {
    if (m === undefined) return true;
    const v = ignorePlus ? stripPlus(value) : value;
    const norm = (s: string): string => (ignorePlus ? stripPlus(s) : s);
    if (m.exact !== undefined && v !== norm(m.exact)) return false;
    if (m.prefix !== undefined && !v.startsWith(norm(m.prefix))) return false;
    if (m.regex !== undefined && !new RegExp(m.regex).test(value)) return false;
    return true;
  }
  function linear(routes: readonly RouteInput[], m: MessageAttributes): string | undefined {
    let best: { r: RouteInput; order: number } | undefined;
    routes.forEach((r, order) => {
      const c = r.match ?? {};
      if (c.client !== undefined && c.client !== m.client) return;
      if (!holds(c.destination, m.destination, true) || !holds(c.source, m.source, true)) return;
      if (c.sender_id !== undefined && (m.sourceTon !== 5 || !holds(c.sender_id, m.source, false))) return;
      if (best === undefined || r.priority < best.r.priority) best = { r, order };
    });
    return best?.r.name;
  }

  // Short numbers over few digits, with and without '+', so that prefixes, exact numbers and
  // messages often meet; a letter now and then (short codes, alphanumeric senders).
  const number = fc.stringMatching(/^\+?[258A]{0,5}$/);
  // Exactly one of prefix, exact, regex (the config schema allows no other shape).
  const address = fc.oneof(
    fc.record({ prefix: number }),
    fc.record({ exact: number }),
    fc.record({ regex: fc.constantFrom('^\\+?25', '8$', 'A', '^5') }),
  );
  const criteria = fc.record(
    { destination: address, source: address, sender_id: address, client: fc.constantFrom('acme', 'beta') },
    { requiredKeys: [] },
  );
  const routes = fc
    .array(fc.record({ match: fc.option(criteria, { nil: undefined }), priority: fc.integer({ min: 0, max: 3 }) }), { maxLength: 12 })
    .map((list) => list.map((r, i): RouteInput => ({ name: `r${i}`, cluster: `c${i}`, ...r })));
  const messages = fc.record({
    destination: number,
    source: number,
    sourceTon: fc.constantFrom(1, 5),
    client: fc.constantFrom('acme', 'beta', 'gamma'),
  });

  it('picks the route the rule picks, for random tables and messages', () => {
    fc.assert(
      fc.property(routes, fc.array(messages, { minLength: 1, maxLength: 10 }), (table, msgs) => {
        const compiled = compileRoutes(table);
        for (const m of msgs) expect(compiled.match(m)?.name).toBe(linear(table, m));
      }),
      { numRuns: 2_000 },
    );
  });
});
