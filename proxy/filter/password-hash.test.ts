import { describe, expect, it } from 'vitest';
import { hashPassword, parsePasswordHash, PasswordChecksBusy, verifyPassword, type PasswordHash } from './password-hash.js';

// Cheap cost parameters: the tests check behaviour, not strength.
const CHEAP = { ln: 10, r: 8, p: 1 };

function parsed(text: string): PasswordHash {
  const h = parsePasswordHash(text);
  if (typeof h === 'string') throw new Error(h);
  return h;
}

describe('password hashes (clients[].password_hash)', () => {
  it('a hash made for a password verifies that password and no other', async () => {
    const text = await hashPassword('s3cret', CHEAP);
    expect(text).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    const h = parsed(text);
    expect(await verifyPassword(h, 's3cret')).toBe(true);
    for (const wrong of ['s3cre', 's3cret!', 'S3cret', '']) expect(await verifyPassword(h, wrong)).toBe(false);
  });

  it('many checks at once (queued two at a time): each gets the answer for its own password', async () => {
    const h = parsed(await hashPassword('s3cret', CHEAP));
    const answers = await Promise.all(Array.from({ length: 9 }, (_, i) => verifyPassword(h, i % 3 === 0 ? 's3cret' : `no${i}`)));
    expect(answers).toEqual([true, false, false, true, false, false, true, false, false]);
  });

  it('refuses a check at once when 2 run and 64 wait, rather than queueing without bound', async () => {
    const h = parsed(await hashPassword('s3cret', CHEAP));
    const results = await Promise.allSettled(Array.from({ length: 70 }, () => verifyPassword(h, 's3cret')));
    expect(results.filter((r) => r.status === 'fulfilled' && r.value === true)).toHaveLength(66);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(4);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(PasswordChecksBusy);
    // Once they are done, checks run again.
    expect(await verifyPassword(h, 's3cret')).toBe(true);
  });

  it('salts each hash: the same password hashes differently each time', async () => {
    expect(await hashPassword('same', CHEAP)).not.toBe(await hashPassword('same', CHEAP));
  });

  it('the default cost is what the format says (ln=14, r=8, p=1)', async () => {
    expect(await hashPassword('x')).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$/);
  });

  it('names what is wrong with a bad hash', () => {
    const salt = Buffer.alloc(16, 1).toString('base64');
    const hash = Buffer.alloc(32, 2).toString('base64');
    expect(parsePasswordHash('secret')).toMatch(/^must be \$scrypt\$ln=<n>,r=<n>,p=<n>\$/);
    expect(parsePasswordHash(`$scrypt$ln=9,r=8,p=1$${salt}$${hash}`)).toBe('ln must be 10 to 20, got 9');
    expect(parsePasswordHash(`$scrypt$ln=18,r=8,p=1$${salt}$${hash}`)).toBe('ln=18 with r=8 needs more than 128 MiB per check');
    expect(typeof parsePasswordHash(`$scrypt$ln=17,r=8,p=1$${salt}$${hash}`)).toBe('object');
    expect(parsePasswordHash(`$scrypt$ln=14,r=0,p=1$${salt}$${hash}`)).toBe('r must be 1 to 16, got 0');
    expect(parsePasswordHash(`$scrypt$ln=14,r=8,p=9$${salt}$${hash}`)).toBe('p must be 1 to 4, got 9');
    expect(parsePasswordHash(`$scrypt$ln=14,r=8,p=1$AAAA$${hash}`)).toBe('the salt must be at least 8 bytes');
    expect(parsePasswordHash(`$scrypt$ln=14,r=8,p=1$${salt}$AAAA`)).toBe('the hash must be at least 16 bytes');
    expect(typeof parsePasswordHash(`$scrypt$ln=14,r=8,p=1$${salt}$${hash}`)).toBe('object');
  });
});
