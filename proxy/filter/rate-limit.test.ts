import { describe, expect, it } from 'vitest';
import { ConfigSchema, type ClientConfigInput, type FilterConfig } from '../config/schema.js';
import { Status, type PduOf } from '../smpp/index.js';
import { ConnectionRefusal, compileFilters, messageCount, type ClientRequestPdu } from './chain.js';
import { createClientThroughput, createRateLimit } from './rate-limit.js';

const clients = (list: ClientConfigInput[]) => ConfigSchema.parse({ clients: list }).clients;

function submit(): ClientRequestPdu {
  return { command: 'submit_sm', sequence_number: 1, command_status: 0 } as unknown as PduOf<'submit_sm'>;
}

function multi(n: number): ClientRequestPdu {
  const dest_addresses = Array.from({ length: n }, () => ({ dest_flag: 2 as const, dl_name: 'x' }));
  return { command: 'submit_multi', sequence_number: 1, command_status: 0, dest_addresses } as unknown as ClientRequestPdu;
}

function query(): ClientRequestPdu {
  return { command: 'query_sm', sequence_number: 1, command_status: 0 } as unknown as ClientRequestPdu;
}

describe('rate_limit', () => {
  it('one bucket per system_id: burst, then requests_per_second', () => {
    let t = 0;
    const rl = createRateLimit({ requests_per_second: 2, burst: 3 }, () => t);
    expect([1, 2, 3, 4].map(() => rl.take('a'))).toEqual([true, true, true, false]);
    expect(rl.take('b')).toBe(true);
    t = 500;
    expect(rl.take('a')).toBe(true);
    expect(rl.take('a')).toBe(false);
  });
});

describe('client throughput', () => {
  it('limits clients with a throughput, never the others; submit_multi counts its destinations', () => {
    let t = 0;
    const tp = createClientThroughput(clients([{ system_id: 'a', password: 'p', throughput: 10 }, { system_id: 'b', password: 'p' }]), () => t);
    expect(tp.take('a', 8)).toBe(true);
    expect(tp.take('a', 3)).toBe(false);
    expect(tp.take('a', 2)).toBe(true);
    for (let i = 0; i < 1000; i++) expect(tp.take('b')).toBe(true);
    expect(tp.take('unknown')).toBe(true);
    t = 1000;
    expect(tp.take('a', 500)).toBe(true); // more than the burst: takes the whole burst
    expect(tp.take('a')).toBe(false);
  });

  it('update() changes limits without granting a new burst', () => {
    const t = 0;
    const tp = createClientThroughput(clients([{ system_id: 'a', password: 'p', throughput: 2 }]), () => t);
    expect(tp.take('a', 2)).toBe(true);
    tp.update(clients([{ system_id: 'a', password: 'p', throughput: 100 }]));
    expect(tp.take('a')).toBe(false);
    tp.update(clients([{ system_id: 'a', password: 'p', throughput: 0 }]));
    expect(tp.take('a')).toBe(true);
  });
});

describe('filter chain', () => {
  const filters = (list: unknown[]): FilterConfig[] =>
    ConfigSchema.parse({ listeners: [{ name: 'l', address: '127.0.0.1:0', filters: list }] }).listeners[0]!.filters;

  it('counts messages: submit_sm and data_sm 1, submit_multi per destination, others 0', () => {
    expect(messageCount(submit())).toBe(1);
    expect(messageCount(multi(5))).toBe(5);
    expect(messageCount(query())).toBe(0);
  });

  it('every firewall must allow a connection', () => {
    const chain = compileFilters(
      filters([
        { type: 'firewall', config: { allow: ['10.0.0.0/8'] } },
        { type: 'firewall', config: { deny: ['10.0.0.9'] } },
      ]),
    );
    expect(chain.checkConnection('10.0.0.1')).toBeUndefined();
    expect(chain.checkConnection('10.0.0.9')).toBe(ConnectionRefusal.FIREWALL);
    expect(chain.checkConnection('192.0.2.1')).toBe(ConnectionRefusal.FIREWALL);
    expect(compileFilters([]).checkConnection('192.0.2.1')).toBeUndefined();
  });

  it('rate_limit counts every request, throughput only messages; over either -> ESME_RTHROTTLED', () => {
    const now = () => 0;
    const list = clients([{ system_id: 'acme', password: 'p', throughput: 2 }]);
    const chain = compileFilters(filters([{ type: 'rate_limit', config: { requests_per_second: 1, burst: 4 } }]), {
      clients: list,
      now,
    });
    expect(chain.checkRequest('acme', query())).toBe(Status.ESME_ROK);
    expect(chain.checkRequest('acme', submit())).toBe(Status.ESME_ROK);
    expect(chain.checkRequest('acme', submit())).toBe(Status.ESME_ROK);
    expect(chain.checkRequest('acme', submit())).toBe(Status.ESME_RTHROTTLED); // throughput
    expect(chain.checkRequest('acme', query())).toBe(Status.ESME_RTHROTTLED); // rate_limit: 4 used
    expect(chain.checkRequest('other', query())).toBe(Status.ESME_ROK);
  });

  it('a shared throughput instance limits the client across listeners', () => {
    const tp = createClientThroughput(clients([{ system_id: 'acme', password: 'p', throughput: 1 }]), () => 0);
    const a = compileFilters([], { throughput: tp });
    const b = compileFilters([], { throughput: tp });
    expect(a.checkRequest('acme', submit())).toBe(Status.ESME_ROK);
    expect(b.checkRequest('acme', submit())).toBe(Status.ESME_RTHROTTLED);
  });
});
