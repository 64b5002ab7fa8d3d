import { cidrRange, coverage, isWorldSized } from "../../components/hosts/cidrSet";
import { findFirewallViolations, ResourceLike } from "../../components/hosts/firewallInvariant";

describe("CIDR sets", () => {
  it("parses IPv4 and IPv6 blocks to intervals", () => {
    expect(cidrRange("10.0.0.0/8")).toEqual({
      family: 4,
      interval: { start: 10n << 24n, end: (11n << 24n) - 1n },
    });
    expect(cidrRange("203.0.113.7")).toEqual({
      family: 4,
      interval: { start: 3405803783n, end: 3405803783n },
    });
    expect(cidrRange("::/0")).toEqual({ family: 6, interval: { start: 0n, end: (1n << 128n) - 1n } });
    expect(cidrRange("2001:db8::/32")?.interval.start).toBe(0x20010db8n << 96n);
    expect(cidrRange("::ffff:192.0.2.1/128")?.interval.start).toBe((0xffffn << 32n) + 3221225985n);
    for (const bad of ["10.0.0.0/33", "300.0.0.0/8", "1:2:3/64", "a::b::c/64", "10.0.0.0/8/8", "x"]) {
      expect(cidrRange(bad)).toBeUndefined();
    }
  });

  it("measures the union, not the sum", () => {
    expect(coverage(["0.0.0.0/1", "0.0.0.0/2", "64.0.0.0/2"])).toEqual({ ipv4: 0.5, ipv6: 0 });
    expect(coverage(["10.0.0.0/8", "10.1.0.0/16"]).ipv4).toBe(1 / 256);
    expect(coverage(["::/1", "8000::/2"]).ipv6).toBe(0.75);
  });

  it("calls half or more world-sized, in either family", () => {
    expect(isWorldSized(["0.0.0.0/0"])).toBe(true);
    expect(isWorldSized(["0.0.0.0/1", "128.0.0.0/1"])).toBe(true);
    expect(isWorldSized(["128.0.0.0/1"])).toBe(true);
    expect(isWorldSized(["0.0.0.0/2", "128.0.0.0/2"])).toBe(true);
    expect(isWorldSized(["::/1", "8000::/1"])).toBe(true);
    expect(isWorldSized(["0.0.0.0/2", "64.0.0.0/3", "10.0.0.0/8"])).toBe(false);
    expect(isWorldSized(["0.0.0.0/2", "0.0.0.0/2"])).toBe(false);
    expect(isWorldSized(["2000::/3"])).toBe(false);
    expect(isWorldSized(["sg-0123", "self"])).toBe(false);
  });
});

describe("findFirewallViolations judges by set", () => {
  const rule = (name: string, cidrIpv4: string, fromPort = 22, toPort = fromPort): ResourceLike => ({
    type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    name,
    inputs: { ipProtocol: "tcp", fromPort, toPort, cidrIpv4 },
  });

  it("reports every rule of a world-sized set, and says so", () => {
    expect(
      findFirewallViolations([rule("a", "0.0.0.0/2"), rule("b", "64.0.0.0/2"), rule("c", "203.0.113.7/32")]),
    ).toEqual([
      {
        resource: "a",
        type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        reason:
          "opens SSH 22/tcp to 0.0.0.0/2, part of a set of blocks that covers half or more of the internet",
      },
      {
        resource: "b",
        type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        reason:
          "opens SSH 22/tcp to 64.0.0.0/2, part of a set of blocks that covers half or more of the internet",
      },
      {
        resource: "c",
        type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        reason:
          "opens SSH 22/tcp to 203.0.113.7/32, part of a set of blocks that covers half or more of the internet",
      },
    ]);
  });

  it("reports a lone half as the world, and leaves a smaller set alone", () => {
    expect(findFirewallViolations([rule("half", "128.0.0.0/1", 2377)]).map((v) => v.reason)).toEqual([
      "opens swarm 2377/tcp to 128.0.0.0/1",
    ]);
    expect(findFirewallViolations([rule("a", "0.0.0.0/2", 2377), rule("b", "64.0.0.0/3", 2377)])).toEqual([]);
    // A world-sized set on a port that is not protected is a published service, not a violation.
    expect(findFirewallViolations([rule("web", "0.0.0.0/1", 443), rule("web2", "128.0.0.0/1", 443)])).toEqual(
      [],
    );
  });
});
