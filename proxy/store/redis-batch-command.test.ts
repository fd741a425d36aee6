import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RespWriter, Transaction, canTakeReplies, encodeArgs, encodeCommand, type RespArg } from './redis-batch-command.js';
import { failFastOptions } from './redis-connection.js';

/** RESP as Redis reads it, built the plain way: each argument's UTF-8 bytes with its length. */
function resp(name: string, args: readonly RespArg[]): Buffer {
  const parts = [Buffer.from(`*${args.length + 1}\r\n`)];
  for (const a of [name, ...args]) {
    const bytes = typeof a === 'object' ? Buffer.from(a as Uint8Array) : Buffer.from(String(a), 'utf8');
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

describe('RespWriter, a command written in pieces', () => {
  it('writes what encodeCommand writes: characters, a key of a prefix and part of an id, parts and keys copied, encoded arguments', () => {
    const w = new RespWriter();
    w.array(8).raw(encodeArgs('hset'));
    const keyFrom = w.offset;
    // The key: the prefix's bytes (UTF-8) and the id but its last character.
    const keyTo = w.joined(Buffer.from('pré:r:', 'utf8'), 'smppd0a1b2c3d4e', 14).offset;
    w.char(0x65).arg('rec|1').arg(1234567890123);
    // An id of the key's block: the 14 bytes after the prefix, then its own last character.
    w.partAnd(keyTo - 2 - 14, 14, 0x66);
    w.again(keyFrom, keyTo).arg(Uint8Array.from([0x00, 0xff]));
    w.array(2).raw(encodeArgs('pexpire', 'NX'));
    const expected = Buffer.concat([
      resp('hset', ['pré:r:smppd0a1b2c3d4', 'e', 'rec|1', 1234567890123, 'smppd0a1b2c3d4f', 'pré:r:smppd0a1b2c3d4', Uint8Array.from([0x00, 0xff])]),
      resp('pexpire', ['NX']),
    ]);
    expect(w.bytes()).toEqual(expected);
  });

  it('writes lengths of every number of digits, and grows its buffer past 64 KiB keeping what it wrote', () => {
    const w = new RespWriter();
    const long = 'x'.repeat(70_000);
    w.array(5).arg('set').arg('k'.repeat(9)).arg('v'.repeat(99)).arg('w'.repeat(100_000));
    const from = w.offset;
    const to = w.arg(long).offset;
    w.array(2).arg('get').again(from, to);
    expect(w.bytes()).toEqual(Buffer.concat([resp('set', ['k'.repeat(9), 'v'.repeat(99), 'w'.repeat(100_000), long]), resp('get', [long])]));
  });
});

describe('encodeCommand', () => {
  it('writes every argument as Redis reads it: ASCII, UTF-8 anywhere in a string, short and long strings, numbers, bytes', () => {
    const args: RespArg[] = [
      '',
      'smppd0a1b2c3d4e',
      '1764160000000|sim|=127.0.0.1:12776|=1a2b3c4d||acme|1764150000000|=all|',
      'é',
      'abcé',
      'éabc',
      'a€b😀c',
      'x'.repeat(64),
      'y'.repeat(65),
      `${'z'.repeat(63)}ü`,
      `${'z'.repeat(70)}ü`,
      // Header digits grow with the bytes: 9 units, 18 bytes; 60 units, 120 bytes; 999 units, 1,001 bytes.
      'é'.repeat(9),
      '😀'.repeat(30),
      `${'a'.repeat(997)}éé`,
      0,
      7,
      1234567890123,
      0.5,
      Uint8Array.from([0x00, 0xff, 0x0d, 0x0a]),
    ];
    expect(encodeCommand('evalsha', ['sha', 1, 'key'], args)).toEqual(resp('evalsha', ['sha', 1, 'key', ...args]));
  });

  it('gives each call its own bytes (the scratch buffer is reused)', () => {
    const first = encodeCommand('hset', ['k', 'é', 'v']);
    const second = encodeCommand('hset', ['k', 'f', 'w'.repeat(100_000)]);
    expect(first).toEqual(resp('hset', ['k', 'é', 'v']));
    expect(second).toEqual(resp('hset', ['k', 'f', 'w'.repeat(100_000)]));
  });

  it('keeps the commands written before when the scratch buffer grows in the middle of a transaction', () => {
    const writer = new RespWriter().command('multi').command('hset', ['k', 'f', 'v']);
    const wire = writer.command('hset', ['k', 'g', 'x'.repeat(200_000)]).command('exec').bytes();
    expect(wire).toEqual(Buffer.concat([resp('multi', []), resp('hset', ['k', 'f', 'v']), resp('hset', ['k', 'g', 'x'.repeat(200_000)]), resp('exec', [])]));
  });
});

describe('Transaction', () => {
  it('fails at once and leaves ioredis\'s command queue as it was when the connection cannot take it', async () => {
    // Nothing listens on port 1; with failFastOptions there is no offline queue.
    const client = new Redis({ ...failFastOptions(), port: 1, lazyConnect: true, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      const exec = new Transaction().command('hset', ['k', 'f', 'v']).send(client);
      await expect(exec).rejects.toThrow();
      expect(client.commandQueue.length).toBe(0);
    } finally {
      client.disconnect();
    }
  });

  it('is used only on a client whose command queue it knows', () => {
    const client = new Redis({ ...failFastOptions(), lazyConnect: true });
    try {
      expect(canTakeReplies(client)).toBe(true);
      // An ioredis whose queue no longer has peekBack: the store keeps to its script.
      Object.defineProperty(client, 'commandQueue', { value: { push() {}, pop() {} } });
      expect(canTakeReplies(client)).toBe(false);
    } finally {
      client.disconnect();
    }
  });
});
