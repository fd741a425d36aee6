import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SMPPD_NODE_FLAGS } from './node-flags.js';

const read = (path: string): string => readFileSync(new URL(path, import.meta.url), 'utf8');

describe('the V8 flags smppd runs with', () => {
  it('are passed by the smppd bin (shebang) and by npm start', () => {
    const shebang = read('./main.ts').split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${SMPPD_NODE_FLAGS.join(' ')}`);
    const start = (JSON.parse(read('../package.json')) as { scripts: Record<string, string> }).scripts.start;
    expect(start).toContain(`node ${SMPPD_NODE_FLAGS.join(' ')} dist/proxy/main.js`);
  });
});
