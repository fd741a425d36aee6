import { describe, expect, it } from 'vitest';
import { authorize, bearerToken, isLoopbackAddress, tokenMatches } from './auth.js';

describe('isLoopbackAddress', () => {
  it.each(['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::FFFF:127.9.9.9'])(
    '%s is loopback',
    (address) => expect(isLoopbackAddress(address)).toBe(true),
  );

  it.each(['10.0.0.1', '128.0.0.1', '::', '::2', '::ffff:10.0.0.1', '::ffff:a00:1', 'fe80::1', 'fe80::1%eth0', '', 'localhost'])(
    '%s is not loopback',
    (address) => expect(isLoopbackAddress(address)).toBe(false),
  );

  it('an unknown peer address is not loopback', () => {
    expect(isLoopbackAddress(undefined)).toBe(false);
  });
});

describe('bearerToken', () => {
  it('reads the token of a Bearer header, scheme in any case', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer  abc')).toBe('abc');
  });

  it('ignores other schemes and malformed headers', () => {
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('Basic YWxhZGRpbjpvcGVuc2VzYW1l')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
  });
});

describe('tokenMatches', () => {
  it('matches only the exact token, whatever the lengths', () => {
    expect(tokenMatches('s3cret', 's3cret')).toBe(true);
    expect(tokenMatches('s3cre', 's3cret')).toBe(false);
    expect(tokenMatches('s3cretX', 's3cret')).toBe(false);
    expect(tokenMatches('', 's3cret')).toBe(false);
  });
});

describe('authorize', () => {
  const remote = { authorization: undefined, remoteAddress: '10.0.0.7' };
  const local = { authorization: undefined, remoteAddress: '127.0.0.1' };

  it('with a token: the right bearer token passes from anywhere, else 401', () => {
    expect(authorize({ ...remote, authorization: 'Bearer tok' }, 'tok')).toEqual({ allowed: true });
    expect(authorize(remote, 'tok')).toMatchObject({ allowed: false, status: 401, reason: 'missing_token' });
    expect(authorize(local, 'tok')).toMatchObject({ allowed: false, status: 401 });
    expect(authorize({ ...local, authorization: 'Bearer nope' }, 'tok')).toMatchObject({ status: 401, reason: 'wrong_token' });
  });

  it('without a token: loopback passes, anything else gets 403', () => {
    expect(authorize(local, undefined)).toEqual({ allowed: true });
    expect(authorize({ ...local, remoteAddress: '::1' }, undefined)).toEqual({ allowed: true });
    expect(authorize(remote, undefined)).toMatchObject({ allowed: false, status: 403, reason: 'not_loopback' });
    // A bearer header proves nothing when no token is configured.
    expect(authorize({ ...remote, authorization: 'Bearer anything' }, undefined)).toMatchObject({ status: 403 });
  });
});
