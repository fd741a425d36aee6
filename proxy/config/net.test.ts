import { expect, test } from 'vitest';
import { isCidr, parseHostPort } from './net.js';

test('parseHostPort accepts hostnames, IPv4 and bracketed IPv6', () => {
  expect(parseHostPort('0.0.0.0:2775')).toEqual({ host: '0.0.0.0', port: 2775 });
  expect(parseHostPort('smsc.vodacom.mz:2775')).toEqual({ host: 'smsc.vodacom.mz', port: 2775 });
  expect(parseHostPort('smsc-1.ns.svc.cluster.local:2775')).toEqual({ host: 'smsc-1.ns.svc.cluster.local', port: 2775 });
  expect(parseHostPort('[::1]:9090')).toEqual({ host: '::1', port: 9090 });
  expect(parseHostPort('localhost:0')).toEqual({ host: 'localhost', port: 0 });
});

test.each(['2775', ':2775', 'host:', 'host:65536', 'host:-1', '::1:2775', '[nothost]:1', 'a b:1', 'host:27x5', '-bad.example:1'])(
  'parseHostPort rejects %j',
  (text) => {
    expect(parseHostPort(text)).toBeUndefined();
  },
);

test('isCidr accepts IPv4 and IPv6 networks and bare addresses', () => {
  for (const ok of ['10.0.0.0/8', '0.0.0.0/0', '192.168.1.7', '192.168.1.7/32', '2001:db8::/32', '::/0', '::1', 'fe80::1/128']) {
    expect(isCidr(ok), ok).toBe(true);
  }
  for (const bad of ['10.0.0.0/33', '2001:db8::/129', '10.0.0/8', '10.0.0.0/', '10.0.0.0/a', 'example.com/8', '', '10.0.0.0/8/8']) {
    expect(isCidr(bad), bad).toBe(false);
  }
});
