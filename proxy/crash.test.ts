import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { exitOnCrash } from './crash.js';

describe('exitOnCrash', () => {
  it.each([
    ['uncaughtException', 'uncaught exception'],
    ['unhandledRejection', 'unhandled rejection'],
  ])('reports a %s and exits 2 (a runtime failure, not the 1 of a bad config)', (event, what) => {
    const source = new EventEmitter();
    const reports: [string, unknown][] = [];
    const exits: number[] = [];
    exitOnCrash(source, (w, err) => void reports.push([w, err]), (code) => void exits.push(code));
    const err = new Error('boom');
    source.emit(event, err);
    expect(reports).toEqual([[what, err]]);
    expect(exits).toEqual([2]);
  });

  it('exits 2 even when the report itself throws', () => {
    const source = new EventEmitter();
    const exits: number[] = [];
    exitOnCrash(
      source,
      () => {
        throw new Error('stdout closed');
      },
      (code) => void exits.push(code),
    );
    expect(() => source.emit('uncaughtException', new Error('boom'))).toThrow('stdout closed');
    expect(exits).toEqual([2]);
  });
});
