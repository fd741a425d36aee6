import { describe, expect, it } from 'vitest';
import { createClientRegistry } from './client-registry.js';
import type { ClientSession } from './types.js';

function fake(id: string, systemId: string, bindType: ClientSession['bindType']): ClientSession & { alive: boolean } {
  return {
    id,
    systemId,
    bindType,
    listener: 'l',
    remoteAddress: '127.0.0.1',
    boundAt: 0,
    unbind() {},
    alive: true,
    canReceive() {
      return this.alive && bindType !== 'transmitter';
    },
    deliver: async () => 0,
    deliverWith: (_pdu, _timeoutMs, done) => done.delivered(0),
  };
}

describe('client registry', () => {
  it('counts binds per system_id and forgets closed sessions', () => {
    const r = createClientRegistry();
    const a = fake('1', 'acme', 'transmitter');
    const b = fake('2', 'acme', 'receiver');
    r.add(a);
    r.add(b);
    r.add(b); // idempotent
    r.add(fake('3', 'other', 'transceiver'));
    expect(r.bindCount('acme')).toBe(2);
    expect(r.bindCount('other')).toBe(1);
    expect(r.bindCount('nobody')).toBe(0);
    expect(r.size).toBe(3);
    r.remove(a);
    r.remove(a);
    expect(r.bindCount('acme')).toBe(1);
    expect(r.sessions().map((s) => s.id).sort()).toEqual(['2', '3']);
  });

  it('receiverFor goes round robin over receivers and transceivers, never transmitters', () => {
    const r = createClientRegistry();
    r.add(fake('tx', 'acme', 'transmitter'));
    expect(r.receiverFor('acme')).toBeUndefined();
    const rx = fake('rx', 'acme', 'receiver');
    const trx = fake('trx', 'acme', 'transceiver');
    const rx2 = fake('rx2', 'acme', 'receiver');
    r.add(rx);
    r.add(trx);
    r.add(rx2);
    const picks = Array.from({ length: 6 }, () => r.receiverFor('acme')!.id);
    expect(picks).toEqual(['rx', 'trx', 'rx2', 'rx', 'trx', 'rx2']);

    // Removing one keeps the rotation going over the others.
    r.receiverFor('acme'); // rx
    r.remove(trx);
    expect([r.receiverFor('acme')!.id, r.receiverFor('acme')!.id, r.receiverFor('acme')!.id]).toEqual(['rx2', 'rx', 'rx2']);
  });

  it('skips sessions that can no longer receive (unbinding) and answers undefined when none can', () => {
    const r = createClientRegistry();
    const a = fake('a', 'acme', 'receiver');
    const b = fake('b', 'acme', 'receiver');
    r.add(a);
    r.add(b);
    a.alive = false;
    expect([r.receiverFor('acme')!.id, r.receiverFor('acme')!.id]).toEqual(['b', 'b']);
    b.alive = false;
    expect(r.receiverFor('acme')).toBeUndefined();
  });

  it('onReceiverBound fires after the session is findable, only for receiver-capable binds', () => {
    const r = createClientRegistry();
    const seen: Array<[string, string | undefined]> = [];
    r.onReceiverBound((systemId) => seen.push([systemId, r.receiverFor(systemId)?.id]));
    r.add(fake('tx', 'acme', 'transmitter'));
    r.add(fake('rx', 'acme', 'receiver'));
    r.add(fake('trx', 'other', 'transceiver'));
    expect(seen).toEqual([
      ['acme', 'rx'],
      ['other', 'trx'],
    ]);
  });

  it('a throwing callback does not stop the others or the add', () => {
    const errors: unknown[] = [];
    const r = createClientRegistry({ onError: (err) => errors.push(err) });
    const calls: string[] = [];
    r.onReceiverBound(() => {
      throw new Error('boom');
    });
    r.onReceiverBound((id) => calls.push(id));
    r.add(fake('rx', 'acme', 'receiver'));
    expect(calls).toEqual(['acme']);
    expect(errors).toHaveLength(1);
    expect(r.bindCount('acme')).toBe(1);
  });
});
