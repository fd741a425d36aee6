// The Prometheus text reader the admin tests rely on must refuse what Prometheus would refuse.

import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue } from './testing.js';

describe('parsePrometheusText', () => {
  it('reads families, labels with escapes, histogram samples and special values', () => {
    const exp = parsePrometheusText(
      [
        '# HELP a_total Things.',
        '# TYPE a_total counter',
        'a_total{x="1",y="q\\"u\\\\o\\nte"} 3',
        '# TYPE h histogram',
        'h_bucket{le="+Inf"} 2',
        'h_sum 0.5',
        'h_count 2',
        '# TYPE g gauge',
        'g Nan',
        'g{k="v"} -Inf 1700000000000',
        '',
      ].join('\n'),
    );
    expect(exp.types).toEqual(new Map([['a_total', 'counter'], ['h', 'histogram'], ['g', 'gauge']]));
    expect(exp.samples[0]).toEqual({ name: 'a_total', labels: { x: '1', y: 'q"u\\o\nte' }, value: 3 });
    expect(sampleValue(exp, 'h_count')).toBe(2);
    expect(sampleValue(exp, 'h_bucket', { le: '+Inf' })).toBe(2);
    expect(sampleValue(exp, 'g', { k: 'v' })).toBe(-Infinity);
    expect(() => sampleValue(exp, 'g')).toThrow(/2 samples/);
  });

  it.each([
    ['a sample with no TYPE line', 'x 1\n'],
    ['a value that is no number', '# TYPE x gauge\nx one\n'],
    ['an unquoted label', '# TYPE x gauge\nx{a=1} 1\n'],
    ['an unknown type', '# TYPE x widget\n'],
    ['a second TYPE line', '# TYPE x gauge\n# TYPE x gauge\n'],
    ['a missing final newline', '# TYPE x gauge\nx 1'],
    ['_count on a gauge', '# TYPE x gauge\nx_count 1\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
