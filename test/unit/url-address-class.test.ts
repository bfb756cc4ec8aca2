import { describe, expect, test } from 'vitest';
import { classifyAddress } from '../../src/url-inputs/address-class.js';
import { readUrlInputSettings } from '../../src/settings.js';
import { parseAllowedHosts } from '../../src/settings-parts/url-inputs.js';

describe('classifyAddress', () => {
  test.each([
    ['0.0.0.0', "a 'this network' address"],
    ['0.255.255.255', "a 'this network' address"],
    ['10.0.0.1', 'a private address (10.0.0.0/8)'],
    ['10.255.255.255', 'a private address (10.0.0.0/8)'],
    ['100.64.0.1', 'a shared address (100.64.0.0/10, carrier-grade NAT)'],
    ['100.127.255.255', 'a shared address'],
    ['127.0.0.1', 'a loopback address'],
    ['127.0.0.2', 'a loopback address'],
    ['127.255.255.254', 'a loopback address'],
    ['169.254.169.254', 'a link-local address (cloud metadata)'],
    ['172.16.0.1', 'a private address (172.16.0.0/12)'],
    ['172.31.255.255', 'a private address (172.16.0.0/12)'],
    ['192.0.0.192', 'a reserved address (192.0.0.0/24'],
    ['192.0.2.1', 'documentation'],
    ['192.88.99.1', '6to4 relay'],
    ['192.168.1.1', 'a private address (192.168.0.0/16)'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['224.0.0.1', 'a multicast address'],
    ['239.255.255.250', 'a multicast address'],
    ['240.0.0.1', 'a reserved address (240.0.0.0/4'],
    ['255.255.255.255', 'a reserved address (240.0.0.0/4'],
  ])('IPv4 %s is refused: %s', (address, what) => {
    expect(classifyAddress(address)).toContain(what);
  });

  test.each([
    ['::', 'the unspecified address'],
    ['::1', 'a loopback address'],
    ['[::1]', 'a loopback address'],
    ['0:0:0:0:0:0:0:1', 'a loopback address'],
    ['fe80::1', 'a link-local address'],
    ['fe80::1%eth0', 'a link-local address'],
    ['febf:ffff::1', 'a link-local address'],
    ['fec0::1', 'site-local'],
    ['fc00::1', 'a private address (fc00::/7, unique local)'],
    ['fd12:3456:789a::1', 'a private address (fc00::/7, unique local)'],
    ['ff02::1', 'a multicast address'],
    ['2001:db8::1', 'documentation'],
    ['100::1', 'discard-only'],
    ['::ffff:127.0.0.1', 'an IPv4-mapped form of 127.0.0.1, a loopback address'],
    ['::ffff:7f00:1', 'an IPv4-mapped form of 127.0.0.1, a loopback address'],
    ['::ffff:169.254.169.254', 'an IPv4-mapped form of 169.254.169.254, a link-local address (cloud metadata)'],
    ['::FFFF:a00:1', 'an IPv4-mapped form of 10.0.0.1, a private address'],
    ['64:ff9b::10.0.0.1', 'a NAT64 form of 10.0.0.1, a private address'],
    ['64:ff9b::a9fe:a9fe', 'a NAT64 form of 169.254.169.254, a link-local address (cloud metadata)'],
    ['64:ff9b:1::1', 'a NAT64 address for local use'],
    ['::127.0.0.1', 'an IPv4-compatible form of 127.0.0.1, a loopback address'],
    ['::8.8.8.8', 'an IPv4-compatible form of 8.8.8.8, a deprecated form'],
    ['2002:a00:1::1', 'a 6to4 form of 10.0.0.1, a private address'],
    ['2002:7f00:1::', 'a 6to4 form of 127.0.0.1, a loopback address'],
  ])('IPv6 %s is refused: %s', (address, what) => {
    expect(classifyAddress(address)).toContain(what);
  });

  test.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.15.255.255',
    '172.32.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '169.253.255.255',
    '11.0.0.1',
    '223.255.255.255',
    '192.0.1.1',
    '198.20.0.0',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
    'fbff::1',
    'fe00::1',
  ])('public %s is allowed', (address) => {
    expect(classifyAddress(address)).toBeUndefined();
  });

  test('what is not an IP address is refused, never guessed at', () => {
    expect(classifyAddress('localhost')).toBe('not an IP address');
    expect(classifyAddress('')).toBe('not an IP address');
    expect(classifyAddress('2130706433')).toBe('not an IP address');
  });
});

describe('URL input settings', () => {
  test('defaults: on, 30 s, 5 redirects, private addresses refused, no allowed hosts, the body limit', () => {
    expect(readUrlInputSettings({}, 1234)).toEqual({ enabled: true, maxBytes: 1234, timeoutMs: 30000, maxRedirects: 5, allowPrivate: false, allowHosts: [] });
    expect(
      readUrlInputSettings({ URL_INPUTS: 'false', URL_FETCH_TIMEOUT_MS: '500', URL_MAX_REDIRECTS: '0', URL_INPUTS_ALLOW_PRIVATE: 'YES' }, 1),
    ).toMatchObject({ enabled: false, timeoutMs: 500, maxRedirects: 0, allowPrivate: true });
  });

  test('a malformed value is a configuration error naming the variable', () => {
    expect(() => readUrlInputSettings({ URL_INPUTS: 'maybe' }, 1)).toThrow('URL_INPUTS="maybe" is not true or false');
    expect(() => readUrlInputSettings({ URL_FETCH_TIMEOUT_MS: '0' }, 1)).toThrow('URL_FETCH_TIMEOUT_MS="0" is not a positive integer');
    expect(() => readUrlInputSettings({ URL_FETCH_TIMEOUT_MS: '30s' }, 1)).toThrow('URL_FETCH_TIMEOUT_MS="30s" is not a positive integer');
    expect(() => readUrlInputSettings({ URL_FETCH_TIMEOUT_MS: '9999999999' }, 1)).toThrow('the maximum is 2147483647');
    expect(() => readUrlInputSettings({ URL_MAX_REDIRECTS: '-1' }, 1)).toThrow('URL_MAX_REDIRECTS="-1" is not a whole number');
    expect(() => readUrlInputSettings({ URL_INPUTS_ALLOW_HOSTS: 'http://models.internal' }, 1)).toThrow(
      'URL_INPUTS_ALLOW_HOSTS: "http://models.internal" is not a host or host:port',
    );
    try {
      readUrlInputSettings({ URL_INPUTS_ALLOW_PRIVATE: '2' }, 1);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'AI_ERR_INVALID_OPTION' });
    }
  });

  test('URL_INPUTS_ALLOW_HOSTS: host or host:port, IPv6 in brackets, lower-cased', () => {
    expect(parseAllowedHosts(' Models.Internal , 127.0.0.1:9000,[::1]:8080,[fd00::1]')).toEqual([
      { host: 'models.internal' },
      { host: '127.0.0.1', port: 9000 },
      { host: '::1', port: 8080 },
      { host: 'fd00::1' },
    ]);
    expect(parseAllowedHosts('')).toEqual([]);
    for (const bad of ['host:0', 'host:70000', '[nothex]:80', '::1', 'a/b', 'host:'])
      expect(() => parseAllowedHosts(bad)).toThrow(/is not a host or host:port/);
  });
});
