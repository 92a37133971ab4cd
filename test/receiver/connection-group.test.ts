import { describe, expect, it } from 'vitest';
import { connectionGroup } from '../../src/receiver/http/connection-guard.js';

/**
 * The per-address connection cap counts a client's connections together: one IPv6 client owns a
 * whole /64 (any address in it is its own), and an IPv4 client seen through a dual-stack socket
 * is the same client as its plain IPv4 address.
 */
describe('connectionGroup: whose connections share the per-address cap', () => {
  it('every address of one IPv6 /64 is one group, however it is written', () => {
    const group = connectionGroup('2001:db8:1:2::1');
    expect(group).toBe('2001:db8:1:2::/64');
    for (const addr of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0DB8:0001:0002:0:0:0:abcd', '2001:db8:1:2:aaaa::9', '2001:db8:1:2::1%eth0']) {
      expect(connectionGroup(addr)).toBe(group);
    }
  });

  it('another /64 is another group', () => {
    expect(connectionGroup('2001:db8:1:3::1')).not.toBe(connectionGroup('2001:db8:1:2::1'));
    expect(connectionGroup('::1')).toBe('0:0:0:0::/64');
    expect(connectionGroup('fe80::1')).toBe('fe80:0:0:0::/64');
  });

  it('an IPv4-mapped IPv6 address is its IPv4 address; IPv4 addresses stay distinct', () => {
    expect(connectionGroup('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(connectionGroup('::FFFF:127.0.0.2')).toBe('127.0.0.2');
    expect(connectionGroup('192.0.2.7')).toBe('192.0.2.7');
    expect(connectionGroup('192.0.2.8')).not.toBe(connectionGroup('192.0.2.7'));
  });

  it('an IPv6 address with an embedded IPv4 tail (not mapped) is grouped by its /64', () => {
    expect(connectionGroup('64:ff9b::192.0.2.7')).toBe('64:ff9b:0:0::/64');
    expect(connectionGroup('64:ff9b::198.51.100.1')).toBe('64:ff9b:0:0::/64');
  });

  it('anything unreadable is its own group (never merged with another client)', () => {
    expect(connectionGroup('')).toBe('');
    expect(connectionGroup('not-an-address')).toBe('not-an-address');
  });
});
