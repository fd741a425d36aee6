import { describe, expect, it } from 'vitest';
import { compileCidrs, normaliseIp, parseIp } from './cidr.js';
import { createFirewall } from './firewall.js';

describe('parseIp', () => {
  it('parses IPv4, IPv6 (compressed, zoned, dotted tail) and turns IPv4-mapped IPv6 into IPv4', () => {
    expect(parseIp('10.1.2.3')).toEqual({ family: 4, v4: 0x0a010203 });
    expect(parseIp('::ffff:127.0.0.1')).toEqual({ family: 4, v4: 0x7f000001 });
    expect(parseIp('::FFFF:7f00:1')).toEqual({ family: 4, v4: 0x7f000001 });
    expect(parseIp('2001:db8::1')).toEqual({ family: 6, v6: [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1] });
    expect(parseIp('::1')).toEqual({ family: 6, v6: [0, 0, 0, 0, 0, 0, 0, 1] });
    expect(parseIp('::')).toEqual({ family: 6, v6: [0, 0, 0, 0, 0, 0, 0, 0] });
    expect(parseIp('fe80::1%eth0')).toEqual({ family: 6, v6: [0xfe80, 0, 0, 0, 0, 0, 0, 1] });
    expect(parseIp('64:ff9b::192.0.2.33')).toEqual({ family: 6, v6: [0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0221] });
    expect(parseIp('1:2:3:4:5:6:7:8')).toEqual({ family: 6, v6: [1, 2, 3, 4, 5, 6, 7, 8] });
  });

  it('refuses what is not an address', () => {
    for (const bad of ['', 'localhost', '10.0.0.256', '1.2.3', '::g', '10.0.0.0/8']) expect(parseIp(bad)).toBeUndefined();
  });

  it('normaliseIp prints IPv4-mapped addresses as IPv4', () => {
    expect(normaliseIp('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(normaliseIp('2001:db8::1')).toBe('2001:db8::1');
  });
});

describe('compileCidrs', () => {
  it('matches IPv4 ranges, including clients reported as IPv4-mapped IPv6', () => {
    const set = compileCidrs(['10.0.0.0/8', '192.168.1.7', '172.16.0.0/12']);
    expect(set.has('10.255.0.1')).toBe(true);
    expect(set.has('::ffff:10.1.1.1')).toBe(true);
    expect(set.has('192.168.1.7')).toBe(true);
    expect(set.has('192.168.1.8')).toBe(false);
    expect(set.has('172.31.255.255')).toBe(true);
    expect(set.has('172.32.0.0')).toBe(false);
    expect(set.has('11.0.0.1')).toBe(false);
  });

  it('matches IPv6 ranges at any prefix length, and keeps the families apart', () => {
    const set = compileCidrs(['2001:db8::/32', 'fd00:1:2:3::/63', '::1']);
    expect(set.has('2001:db8:ffff::1')).toBe(true);
    expect(set.has('2001:db9::1')).toBe(false);
    expect(set.has('fd00:1:2:2::5')).toBe(true);
    expect(set.has('fd00:1:2:4::5')).toBe(false);
    expect(set.has('::1')).toBe(true);
    expect(set.has('127.0.0.1')).toBe(false);
    expect(compileCidrs(['::/0']).has('10.0.0.1')).toBe(false);
    expect(compileCidrs(['0.0.0.0/0']).has('::1')).toBe(false);
    expect(compileCidrs(['0.0.0.0/0']).has('::ffff:8.8.8.8')).toBe(true);
  });

  it('treats rules written as IPv4-mapped IPv6 as the IPv4 range they denote', () => {
    const set = compileCidrs(['::ffff:10.0.0.0/104']);
    expect(set.has('10.9.9.9')).toBe(true);
    expect(set.has('11.0.0.1')).toBe(false);
  });

  it('an empty set matches nothing; garbage never matches; a bad entry throws', () => {
    expect(compileCidrs([]).has('10.0.0.1')).toBe(false);
    expect(compileCidrs(['0.0.0.0/0']).has('not-an-ip')).toBe(false);
    expect(() => compileCidrs(['10.0.0.0/33'])).toThrow(RangeError);
    expect(() => compileCidrs(['nope'])).toThrow(RangeError);
  });
});

describe('firewall', () => {
  it('deny wins over allow; an empty allow list allows all not denied; mapped addresses match IPv4 rules', () => {
    const fw = createFirewall({ allow: ['10.0.0.0/8'], deny: ['10.6.6.0/24'] });
    expect(fw.allows('10.1.1.1')).toBe(true);
    expect(fw.allows('::ffff:10.1.1.1')).toBe(true);
    expect(fw.allows('10.6.6.6')).toBe(false);
    expect(fw.allows('::ffff:10.6.6.6')).toBe(false);
    expect(fw.allows('127.0.0.1')).toBe(false);
    expect(fw.allows(undefined)).toBe(false);

    const open = createFirewall({ allow: [], deny: ['::ffff:127.0.0.1', '2001:db8::/32'] });
    expect(open.allows('127.0.0.1')).toBe(false);
    expect(open.allows('2001:db8::5')).toBe(false);
    expect(open.allows('192.0.2.1')).toBe(true);
    expect(open.allows('::1')).toBe(true);
  });
});
