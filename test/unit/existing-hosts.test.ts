import { installMocks, isSecretOutput, valueOf } from "../helpers/mocks";
import * as pulumi from "@pulumi/pulumi";

describe("existingHosts", () => {
  let existingHosts: typeof import("../../components/hosts/existing").existingHosts;
  beforeAll(async () => {
    await installMocks();
    ({ existingHosts } = await import("../../components/hosts/existing"));
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
