import { describe, expect, it } from 'vitest';
import type { SessionLogger } from '../session/types.js';
import { createLogger, sessionLogger } from './logger.js';

/** A destination that keeps each JSON line, parsed. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, destination: { write: (s: string) => void lines.push(JSON.parse(s)) } };
}

describe('logger', () => {
  it('writes JSON lines with a level name and an ISO time', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', destination });
    log.info({ listener: 'main' }, 'listening');
    log.debug({}, 'not written at info');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'listening', listener: 'main' });
    expect(new Date(lines[0].time as string).toISOString()).toBe(lines[0].time);
  });

  it('redacts password, token and secret fields up to two objects down', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', destination });
    log.info(
      {
        password: 'p0',
        token: 't0',
        secret: 's0',
        bind: { system_id: 'acme', password: 'p1', token: 't1' },
        config: { auth: { password: 'p2', token: 't2', secret: 's2' } },
      },
      'bind',
    );
    expect(lines[0]).toMatchObject({
      password: '***',
      token: '***',
      secret: '***',
      bind: { system_id: 'acme', password: '***', token: '***' },
      config: { auth: { password: '***', token: '***', secret: '***' } },
    });
    expect(JSON.stringify(lines[0])).not.toMatch(/"[pts][0-2]"/);
  });

  it('a session logger tags every line with the session identity and serves as a SessionLogger', () => {
    const { lines, destination } = capture();
    const root = createLogger({ level: 'debug', destination });
    const log: SessionLogger = sessionLogger(root, { sessionId: 7, listener: 'main', remote: '10.0.0.5:40000' });
    log.warn({ seq: 3 }, 'response timed out');
    const bound = sessionLogger(root, { sessionId: 7, listener: 'main', systemId: 'acme', remote: '10.0.0.5:40000' });
    bound.info({ password: 'x' }, 'bound');
    expect(lines[0]).toMatchObject({ level: 'warn', sessionId: 7, listener: 'main', remote: '10.0.0.5:40000', seq: 3 });
    expect(lines[0]).not.toHaveProperty('systemId');
    expect(lines[1]).toMatchObject({ level: 'info', systemId: 'acme', password: '***' });
  });

  it('silent writes nothing', () => {
    const { lines, destination } = capture();
    createLogger({ level: 'silent', destination }).error({}, 'lost');
    expect(lines).toEqual([]);
  });
});
