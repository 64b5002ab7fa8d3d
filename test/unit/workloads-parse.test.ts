import fc from "fast-check";
import {
  durationNanos,
  formatDuration,
  parseDuration,
  parseImageReference,
  parseMemory,
  requireSwarmName,
} from "../../components/workloads/parse";

describe("durations", () => {
  it.each([
    ["1s", "1s"],
    ["3s", "3s"],
    ["10s", "10s"],
    ["90s", "1m30s"],
    ["2m", "2m"],
    ["120s", "2m"],
    ["1h", "1h"],
    ["1h30s", "1h0m30s"],
    ["1.5h", "1h30m"],
    ["500ms", "500ms"],
    ["1500ms", "1.5s"],
    ["0", "0s"],
    ["0s", "0s"],
    ["250us", "250\u00b5s"],
    ["10ns", "10ns"],
    ["1m30.25s", "1m30.25s"],
  ])("%s -> %s (the provider's read-back form, so no perpetual diff)", (input, expected) => {
    expect(parseDuration("d", input)).toBe(expected);
  });

  it.each(["", "10", "10 s", "-1s", "1d", "s", "1.s", "10sec", "1m 30s"])("refuses %j", (input) => {
    expect(() => parseDuration("updatePolicy.delay", input)).toThrow(
      `updatePolicy.delay: received ${JSON.stringify(input)}. Use a duration made of a number and a unit (ns, us, ms, s, m, h), e.g. "10s", "500ms" or "1m30s".`,
    );
  });

  it("formats and parses back to the same nanoseconds", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), (nanos) => {
        expect(durationNanos("d", formatDuration(nanos))).toBe(nanos);
      }),
    );
  });
});

describe("memory sizes", () => {
  it.each<[string | number, number]>([
    ["512M", 512 * 1024 ** 2],
    ["512m", 512 * 1024 ** 2],
    ["512MiB", 512 * 1024 ** 2],
    ["512mb", 512 * 1024 ** 2],
    ["1G", 1024 ** 3],
    ["1.5g", 1.5 * 1024 ** 3],
    ["64k", 64 * 1024],
    ["1024", 1024],
    ["100b", 100],
    [4096, 4096],
  ])("%j -> %d bytes", (input, bytes) => {
    expect(parseMemory("memory", input)).toBe(bytes);
  });

  it.each(["", "512X", "M", "-1M", "1.2.3G", "12 MBs", "5bb", "0"])("refuses %j", (input) => {
    expect(() => parseMemory("memory", input)).toThrow(/^memory: received /);
  });

  it("refuses zero and fractional byte counts", () => {
    expect(() => parseMemory("m", 0)).toThrow(
      'm: received 0. Use a positive whole number of bytes, or a size like "512M" or "2G".',
    );
    expect(() => parseMemory("m", 1.5)).toThrow("m: received 1.5.");
  });
});

describe("image references", () => {
  it.each([
    ["nginx", { repository: "nginx" }],
    ["nginx:1.27-alpine", { repository: "nginx", tag: "1.27-alpine" }],
    ["library/tomcat:9.0", { repository: "library/tomcat", tag: "9.0" }],
    ["team/app", { repository: "team/app" }],
    ["localhost/app:dev", { registry: "localhost", repository: "app", tag: "dev" }],
    ["localhost:5000/app", { registry: "localhost:5000", repository: "app" }],
    [
      "Registry.Example.com:5000/team/app:1.2",
      { registry: "Registry.Example.com:5000", repository: "team/app", tag: "1.2" },
    ],
    [`redis@sha256:${"a".repeat(64)}`, { repository: "redis", digest: `sha256:${"a".repeat(64)}` }],
    [
      `ghcr.io/org/img:v1@sha256:${"0".repeat(64)}`,
      { registry: "ghcr.io", repository: "org/img", tag: "v1", digest: `sha256:${"0".repeat(64)}` },
    ],
  ])("parses %s", (input, parts) => {
    expect(parseImageReference("image", input)).toEqual(parts);
  });

  it.each([
    "",
    "Nginx",
    "team/App",
    "nginx:",
    "nginx:1.0 ",
    " nginx",
    "https://registry.example.com/app",
    "app@sha256:abc",
    "nginx::1",
    "a//b",
    `nginx:${"x".repeat(129)}`,
  ])("refuses %j", (input) => {
    expect(() => parseImageReference("image", input)).toThrow(
      /^image: received .*\. (Use an image reference|Repository names must be lowercase)/,
    );
  });
});

describe("swarm names", () => {
  it.each(["web", "volatile_frontend_svc", "a-b_c", "A1"])("accepts %s", (name) => {
    expect(() => requireSwarmName("serviceName", name)).not.toThrow();
  });
  it.each(["", "-web", "web-", "web_", "a b", "a.b", "x".repeat(64)])("refuses %j", (name) => {
    expect(() => requireSwarmName("serviceName", name)).toThrow(
      /^serviceName: received .*\. Use 1-63 letters/,
    );
  });
});
