import { describe, expect, it } from 'vitest';
import { MESSAGE_ID_PREFIX_LENGTH, createMessageIdGenerator, newMessageIdPrefix } from './message-id.js';

describe('message ids', () => {
  it('are the prefix followed by a base36 counter', () => {
    const ids = createMessageIdGenerator({ prefix: 'abcdefghij0123' });
    expect([ids.next(), ids.next(), ids.next()]).toEqual(['abcdefghij01230', 'abcdefghij01231', 'abcdefghij01232']);
    for (let i = 0; i < 40; i++) ids.next();
    expect(ids.next()).toBe('abcdefghij0123' + (43).toString(36));
  });

  it('use lowercase base36 only and a fixed-length prefix', () => {
    const ids = createMessageIdGenerator();
    expect(ids.prefix).toHaveLength(MESSAGE_ID_PREFIX_LENGTH);
    expect(ids.next()).toMatch(/^[0-9a-z]{15}$/);
  });

  it('put the start second in the prefix, so generators started at different times differ', () => {
    const start = Date.UTC(2025, 0, 1);
    const a = newMessageIdPrefix(() => start);
    const b = newMessageIdPrefix(() => start + 1000);
    expect(a.slice(0, 6)).not.toBe(b.slice(0, 6));
    expect(newMessageIdPrefix(() => start + 999).slice(0, 6)).toBe(a.slice(0, 6));
  });

  it('refuse a prefix that could make two generators collide', () => {
    for (const prefix of ['short', 'abcdefghij01234', 'ABCDEFGHIJ0123', 'abcdefghij-123']) {
      expect(() => createMessageIdGenerator({ prefix })).toThrow(RangeError);
    }
  });
});
