import { isIPv4, isIPv6 } from 'node:net';

interface Range {
  /** The first address of the range, as a number (IPv4) or bigint (IPv6). */
  base: number | bigint;
  bits: number;
  what: string;
}

const ipv4Ranges: readonly Range[] = [
  v4('0.0.0.0', 8, "a 'this network' address (0.0.0.0/8, which reaches this machine)"),
  v4('10.0.0.0', 8, 'a private address (10.0.0.0/8)'),
  v4('100.64.0.0', 10, 'a shared address (100.64.0.0/10, carrier-grade NAT)'),
  v4('127.0.0.0', 8, 'a loopback address'),
  v4('169.254.0.0', 16, 'a link-local address (cloud metadata)'),
  v4('172.16.0.0', 12, 'a private address (172.16.0.0/12)'),
  v4('192.0.0.0', 24, 'a reserved address (192.0.0.0/24, IETF protocol assignments)'),
  v4('192.0.2.0', 24, 'a reserved address (192.0.2.0/24, documentation)'),
  v4('192.88.99.0', 24, 'a reserved address (192.88.99.0/24, 6to4 relay)'),
  v4('192.168.0.0', 16, 'a private address (192.168.0.0/16)'),
  v4('198.18.0.0', 15, 'a reserved address (198.18.0.0/15, benchmarking)'),
  v4('198.51.100.0', 24, 'a reserved address (198.51.100.0/24, documentation)'),
  v4('203.0.113.0', 24, 'a reserved address (203.0.113.0/24, documentation)'),
  v4('224.0.0.0', 4, 'a multicast address'),
  v4('240.0.0.0', 4, 'a reserved address (240.0.0.0/4, broadcast included)'),
];

const ipv6Ranges: readonly Range[] = [
  v6('::', 128, 'the unspecified address (::, which reaches this machine)'),
  v6('::1', 128, 'a loopback address'),
  v6('64:ff9b:1::', 48, 'a NAT64 address for local use (64:ff9b:1::/48)'),
  v6('100::', 64, 'a reserved address (100::/64, discard-only)'),
  v6('2001:db8::', 32, 'a reserved address (2001:db8::/32, documentation)'),
  v6('fc00::', 7, 'a private address (fc00::/7, unique local)'),
  v6('fe80::', 10, 'a link-local address'),
  v6('fec0::', 10, 'a private address (fec0::/10, site-local)'),
  v6('ff00::', 8, 'a multicast address'),
];

// IPv6 forms that carry an IPv4 address, which is what they reach.
const mappedV4 = v6('::ffff:0:0', 96, '');
const translatedV4 = v6('64:ff9b::', 96, ''); // NAT64's well-known prefix
const compatibleV4 = v6('::', 96, ''); // deprecated IPv4-compatible form
const sixToFour = v6('2002::', 16, '');

/**
 * Why an address may not be fetched from unless the operator allows it, or undefined for a
 * public address: loopback, link-local (cloud metadata), private, shared (CGNAT), multicast and
 * reserved IPv4 ranges, their IPv6 counterparts, and IPv6 forms that embed such an IPv4 address
 * (mapped, NAT64, IPv4-compatible, 6to4). Anything that is not an IP address is refused too.
 * @example classifyAddress('169.254.169.254') // 'a link-local address (cloud metadata)'
 */
export function classifyAddress(address: string): string | undefined {
  const plain = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (isIPv4(plain)) return classifyV4(parseV4(plain));
  if (isIPv6(plain)) return classifyV6(parseV6(plain));
  return 'not an IP address';
}

function classifyV4(value: number): string | undefined {
  return ipv4Ranges.find((range) => inRange(value, range, 32))?.what;
}

function classifyV6(value: bigint): string | undefined {
  const low32 = Number(value & 0xffffffffn);
  for (const [range, form] of [
    [mappedV4, 'an IPv4-mapped'],
    [translatedV4, 'a NAT64'],
    [compatibleV4, 'an IPv4-compatible'],
  ] as const) {
    // :: and ::1 are in the IPv4-compatible range too; they have their own, clearer names.
    if (range === compatibleV4 && low32 <= 1) break;
    if (inRange(value, range, 128)) {
      const what = classifyV4(low32);
      return what === undefined && range !== compatibleV4 ? undefined : `${form} form of ${formatV4(low32)}, ${what ?? 'a deprecated form'}`;
    }
  }
  if (inRange(value, sixToFour, 128)) {
    const embedded = Number((value >> 80n) & 0xffffffffn);
    const what = classifyV4(embedded);
    return what === undefined ? undefined : `a 6to4 form of ${formatV4(embedded)}, ${what}`;
  }
  return ipv6Ranges.find((range) => inRange(value, range, 128))?.what;
}

function inRange(value: number | bigint, range: Range, width: 32 | 128): boolean {
  if (width === 32) {
    const shift = 32 - range.bits;
    return shift === 32 || Math.floor((value as number) / 2 ** shift) === Math.floor((range.base as number) / 2 ** shift);
  }
  const shift = BigInt(128 - range.bits);
  return (value as bigint) >> shift === (range.base as bigint) >> shift;
}

function v4(base: string, bits: number, what: string): Range {
  return { base: parseV4(base), bits, what };
}

function v6(base: string, bits: number, what: string): Range {
  return { base: parseV6(base), bits, what };
}

function parseV4(address: string): number {
  return address.split('.').reduce((value, part) => value * 256 + Number(part), 0);
}

function formatV4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

// The address is known to be valid IPv6 (net.isIPv6), so only its shape needs handling: '::'
// shortening and a dotted IPv4 tail.
function parseV6(address: string): bigint {
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const value = parseV4(dotted[1]!);
    text = `${text.slice(0, dotted.index)}${(value >>> 16).toString(16)}:${(value & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return groups.reduce((value, group) => (value << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}
