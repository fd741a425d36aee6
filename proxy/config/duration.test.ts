import { describe, expect, test } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  test.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['72h', 259_200_000],
    ['1d', 86_400_000],
    ['1m30s', 90_000],
    ['1.5s', 1_500],
    ['0s', 0],
    [' 30s ', 30_000],
    [250, 250],
    [0, 0],
  ] as const)('%j -> %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(['', '30', 's', '30 s', '-5s', '5x', '30sec', '1h-5m', '.5s'] as const)('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  test.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('%d ms is not a duration', (ms) => {
    expect(parseDuration(ms)).toBeUndefined();
  });
});

test('formatDuration writes the largest exact unit', () => {
  expect([0, 200, 1_500, 30_000, 90_000, 300_000, 259_200_000].map(formatDuration)).toEqual([
    '0ms',
    '200ms',
    '1500ms',
    '30s',
    '90s',
    '5m',
    '3d',
  ]);
});
