/*
 * Address ranges as sets: what a list of CIDR blocks opens together, IPv4 and IPv6 apart. Least
 * exposure is judged on the union, not on the strings, so ["0.0.0.0/1", "128.0.0.0/1"] is the world
 * just as "0.0.0.0/0" is.
 *
 * World-sized means: the union covers HALF OR MORE of the IPv4 space (2^31 addresses) or of the
 * IPv6 space (2^127). Why half: no admin network, cloud or peer group a user can name comes near it
 * (the largest private block, 10.0.0.0/8, is 1/256 of IPv4; a big cloud provider's whole public
 * range is a few /8s), while anything at or above half is "most of the internet" by any measure and
 * is how a world opening is split to slip past a string check (two /1s, or one /1 alone). A lower bar
 * (say a /8) would refuse legitimate wide corporate or cloud ranges for no gain in what it protects.
 */

/** One address family's interval, inclusive, as big integers. */
interface Interval {
  start: bigint;
  end: bigint;
}

const V4_BITS = 32n;
const V6_BITS = 128n;

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256n + BigInt(part);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split("::").length > 2) return undefined;
  let groups: string[];
  const [head, tail] = text.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  // An embedded IPv4 tail (::ffff:192.0.2.1) counts as two groups.
  const last = tailGroups.length > 0 ? tailGroups : headGroups;
  if (last.length > 0 && last[last.length - 1].includes(".")) {
    const v4 = parseIpv4(last.pop() as string);
    if (v4 === undefined) return undefined;
    last.push((v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16));
  }
  if (tail === undefined) {
    groups = headGroups;
  } else {
    const missing = 8 - headGroups.length - tailGroups.length;
    if (missing < 1) return undefined;
    groups = [...headGroups, ...Array<string>(missing).fill("0"), ...tailGroups];
  }
  if (groups.length !== 8) return undefined;
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) + BigInt(`0x${group}`);
  }
  return value;
}

/** A CIDR block (or a bare address) as its family and interval; undefined when it does not parse. */
export function cidrRange(cidr: string): { family: 4 | 6; interval: Interval } | undefined {
  const [address, prefixText, extra] = cidr.trim().split("/");
  if (extra !== undefined) return undefined;
  const family = address.includes(":") ? 6 : 4;
  const bits = family === 4 ? V4_BITS : V6_BITS;
  const value = family === 4 ? parseIpv4(address) : parseIpv6(address);
  if (value === undefined) return undefined;
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? BigInt(prefixText) : -1n;
  if (prefix < 0n || prefix > bits) return undefined;
  const size = 1n << (bits - prefix);
  const start = (value / size) * size;
  return { family, interval: { start, end: start + size - 1n } };
}

function unionSize(intervals: Interval[]): bigint {
  const sorted = [...intervals].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  let total = 0n;
  let current: Interval | undefined;
  for (const next of sorted) {
    if (current !== undefined && next.start <= current.end + 1n) {
      if (next.end > current.end) current.end = next.end;
      continue;
    }
    if (current !== undefined) total += current.end - current.start + 1n;
    current = { ...next };
  }
  if (current !== undefined) total += current.end - current.start + 1n;
  return total;
}

/** The share of each family's address space the union of `cidrs` covers (0..1); unparsable blocks are ignored. */
export function coverage(cidrs: string[]): { ipv4: number; ipv6: number } {
  const v4: Interval[] = [];
  const v6: Interval[] = [];
  for (const cidr of cidrs) {
    const range = cidrRange(cidr);
    if (range !== undefined) (range.family === 4 ? v4 : v6).push(range.interval);
  }
  const share = (list: Interval[], bits: bigint) => {
    // Compare in units of 2^(bits-20) so the ratio fits a float exactly enough.
    const unit = 1n << (bits - 20n);
    return Number(unionSize(list) / unit) / 2 ** 20;
  };
  return { ipv4: share(v4, V4_BITS), ipv6: share(v6, V6_BITS) };
}

/** True when the union of `cidrs` is world-sized: half or more of IPv4 or of IPv6 (see the top of this file). */
export function isWorldSized(cidrs: string[]): boolean {
  const { ipv4, ipv6 } = coverage(cidrs);
  return ipv4 >= 0.5 || ipv6 >= 0.5;
}
