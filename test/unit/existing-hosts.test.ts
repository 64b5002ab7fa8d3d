import { installMocks, isSecretOutput, valueOf } from "../helpers/mocks";
import * as pulumi from "@pulumi/pulumi";

describe("existingHosts", () => {
  let existingHosts: typeof import("../../components/hosts/existing").existingHosts;
  let ValidationError: typeof import("../../components/validation").ValidationError;
  beforeAll(async () => {
    await installMocks();
    ({ existingHosts } = await import("../../components/hosts/existing"));
    ({ ValidationError } = await import("../../components/validation"));
  });

  it("builds SwarmHosts with secret keys, defaults and advertise address", async () => {
    const hosts = existingHosts(
      [
        { name: "huawei-1", host: "203.0.113.10", advertiseAddr: "192.168.0.10" },
        { name: "tencent-1", host: "203.0.113.20", user: "ubuntu", port: 2222 },
      ],
      { privateKey: "KEY" },
    );
    expect(hosts.map((h) => h.name)).toEqual(["huawei-1", "tencent-1"]);
    expect(hosts[0].advertiseAddr).toBe("192.168.0.10");
    expect(hosts[1].advertiseAddr).toBe("203.0.113.20");
    expect(hosts[0].connection).toMatchObject({ host: "203.0.113.10", port: 22, user: "root" });
    expect(hosts[1].connection).toMatchObject({ port: 2222, user: "ubuntu" });
    const key = hosts[0].connection.privateKey as pulumi.Output<string>;
    expect(await isSecretOutput(key)).toBe(true);
    expect(await valueOf(key)).toBe("KEY");
  });

  it("returns a group like the cloud groups: .hosts and .clusterNetwork, and still the array of hosts", () => {
    const group = existingHosts(
      [
        { name: "huawei-1", host: "203.0.113.10" },
        { name: "tencent-1", host: "203.0.113.20" },
      ],
      { privateKey: "KEY" },
    );
    expect(group.hosts.map((h) => h.name)).toEqual(["huawei-1", "tencent-1"]);
    expect(group.clusterNetwork).toEqual({
      dataPathPort: 4789,
      spansNetworks: false,
      encryptedOverlays: true,
      peerCidrs: [],
    });
    // 0.1 code that used the array keeps working; the group's own fields do not show in it.
    expect(group.map((h) => h.name)).toEqual(["huawei-1", "tencent-1"]);
    expect(group[1]).toBe(group.hosts[1]);
    expect(Object.keys(group)).toEqual(["0", "1"]);
    expect([...group]).toEqual(group.hosts);
  });

  it("describes servers across networks: their data path port and /32 peer blocks", () => {
    const group = existingHosts([{ name: "tencent-1", host: "198.51.100.7" }], {
      privateKey: "KEY",
      dataPathPort: 4800,
      spansNetworks: true,
    });
    expect(group.clusterNetwork).toEqual({
      dataPathPort: 4800,
      spansNetworks: true,
      encryptedOverlays: true,
      peerCidrs: ["198.51.100.7/32"],
    });
    expect(() => existingHosts([{ name: "a", host: "h", privateKey: "k" }], { dataPathPort: 2377 })).toThrow(
      "defaults.dataPathPort: received 2377. Use a UDP port in 1024-49151 other than 2377 and 7946",
    );
    expect(() =>
      existingHosts([{ name: "a", host: "h", privateKey: "k" }], { spansNetworks: "yes" as never }),
    ).toThrow('defaults.spansNetworks: received "yes". Use true or false');
  });

  it("its errors are ValidationErrors, which are pulumi.ResourceErrors: one type to catch", () => {
    let error: unknown;
    try {
      existingHosts([]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toBeInstanceOf(pulumi.ResourceError);
    expect(pulumi.ResourceError.isInstance(error)).toBe(true);
  });

  it("routes through a bastion with a secret key", async () => {
    const [host] = existingHosts([
      { name: "a", host: "10.0.0.5", privateKey: "K", bastion: { host: "198.51.100.1" } },
    ]);
    const proxy = host.connection.proxy as { host: string; user: string; privateKey: pulumi.Output<string> };
    expect(proxy.host).toBe("198.51.100.1");
    expect(proxy.user).toBe("root");
    expect(await isSecretOutput(proxy.privateKey)).toBe(true);
  });

  it.each([
    [[], "servers: received []. Pass at least one server: [{ name, host, privateKey }]."],
    [
      [{ name: "A_1", host: "h", privateKey: "k" }],
      `servers[0].name: received "A_1". Use 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit (it becomes part of resource names and hostnames).`,
    ],
    [
      [
        { name: "a", host: "h", privateKey: "k" },
        { name: "a", host: "g", privateKey: "k" },
      ],
      `servers[1].name: received "a". Host names must be unique; give each server its own name.`,
    ],
    [
      [{ name: "a", host: "bad host", privateKey: "k" }],
      `servers[0].host: received "bad host". Use an IPv4 address or a DNS name that SSH can dial.`,
    ],
    [
      [{ name: "a", host: "h", port: 70000, privateKey: "k" }],
      "servers[0].port: received 70000. Use an integer port between 1 and 65535.",
    ],
    [
      [{ name: "a", host: "h" }],
      "servers[0].privateKey: received undefined. Give the server's SSH private key, or `defaults.privateKey` for all servers.",
    ],
  ])("refuses bad input %#", (servers, message) => {
    expect(() => existingHosts(servers as never)).toThrow(message);
  });

  it("never echoes a private key in an error", () => {
    expect(() => existingHosts([{ name: "a", host: "h", privateKey: "   " }])).toThrow(
      /received "\(empty\)"/,
    );
  });
});
