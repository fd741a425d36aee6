import { describe, expect, it } from 'vitest';
import { MessageMemory } from './message-memory.js';
import { createIdGenerator, type IdFormat } from './message-ids.js';

describe('MessageMemory', () => {
  it.each<IdFormat>(['hex', 'decimal', 'uuid'])('remembers the last N %s ids and forgets older ones', (format) => {
    const next = createIdGenerator(format, format === 'decimal' ? 1_000_000_123 : 0x1abcdef0);
    const memory = new MessageMemory<{ id: string }>(4, format);
    const ids = Array.from({ length: 10 }, () => next());
    for (const id of ids) memory.add({ id });
    expect(ids.map((id) => memory.get(id)?.id)).toEqual([...ids.slice(0, 6).map(() => undefined), ...ids.slice(6)]);
    expect(memory.size).toBe(4);
  });

  it('finds only the exact id: not another spelling, not an id it never gave', () => {
    const memory = new MessageMemory<{ id: string }>(8, 'hex');
    memory.add({ id: '1ABCDEF0' });
    expect(memory.get('1ABCDEF0')?.id).toBe('1ABCDEF0');
    expect(memory.get('1abcdef0')).toBeUndefined();
    expect(memory.get('01ABCDEF0')).toBeUndefined();
    expect(memory.get('1ABCDEF8')).toBeUndefined(); // same slot, another message
    expect(memory.get('')).toBeUndefined();
    expect(memory.get('not-an-id')).toBeUndefined();
  });

  it('starts empty again after reset', () => {
    const memory = new MessageMemory<{ id: string }>(8, 'decimal');
    memory.add({ id: '1000000001' });
    memory.reset(8, 'hex');
    expect(memory.get('1000000001')).toBeUndefined();
    expect(memory.size).toBe(0);
  });
});
