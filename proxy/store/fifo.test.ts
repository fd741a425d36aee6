import { describe, expect, it } from 'vitest';
import { Fifo } from './fifo.js';

describe('Fifo', () => {
  it('gives items back in the order they were pushed, across its internal trims', () => {
    const fifo = new Fifo<number>();
    const out: number[] = [];
    for (let i = 0; i < 5000; i++) {
      fifo.push(i);
      if (i % 3 === 0) out.push(fifo.shift() as number);
    }
    expect(fifo.peek()).toBe(out.length);
    for (let item = fifo.shift(); item !== undefined; item = fifo.shift()) out.push(item);
    expect(out).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(fifo.length).toBe(0);
    expect(fifo.peek()).toBeUndefined();
  });

  it('keeps order when compacted', () => {
    const fifo = new Fifo<number>();
    for (let i = 0; i < 10; i++) fifo.push(i);
    fifo.shift();
    fifo.compact((n) => n % 2 === 0);
    expect(fifo.length).toBe(4);
    const out: number[] = [];
    for (let item = fifo.shift(); item !== undefined; item = fifo.shift()) out.push(item);
    expect(out).toEqual([2, 4, 6, 8]);
  });
});
