import * as fs from "fs";
import { asRemoteCommand } from "../../components/shell";
import { renderPrepareScript } from "../../components/cluster/scripts/prepare";
import { renderInitScript } from "../../components/cluster/scripts/init";
import { renderJoinScript } from "../../components/cluster/scripts/join";
import { describeLab, eventually, Lab } from "./lab";

jest.setTimeout(10 * 60_000);

/**
 * hostFirewall "auto" against a real ufw on every lab host (default deny incoming, only SSH open):
 * the prepare script opens the swarm ports to the other members only, a re-run changes nothing,
 * a member that goes away loses its rules, and a swarm with an overlay network works through it.
 */
describeLab("host firewall: ufw with default deny on every node", () => {
  let lab: Lab;
  const names = ["lab23-1", "lab23-2", "lab23-3"];
  const ip = (h: string) => lab.host(h).ip;
  const prepare = (peers: string[]) =>
    asRemoteCommand(
      renderPrepareScript({
        installDocker: false,
        daemonConfig: {},
        hostFirewall: "auto",
        peers: peers.map(ip),
        dataPathPort: 4789,
        allowEsp: true,
      }),
    );
  const added = async (h: string) =>
    (await lab.sh(h, "ufw show added"))
      .split("\n")
      .filter((l) => l.includes("pulumi-swarm"))
      .sort();
  const expected = (peers: string[]) =>
    peers
      .flatMap((p) => [
        `ufw allow from ${ip(p)} to any port 2377 proto tcp comment 'pulumi-swarm'`,
        `ufw allow from ${ip(p)} to any port 7946 proto tcp comment 'pulumi-swarm'`,
        `ufw allow from ${ip(p)} to any port 7946 proto udp comment 'pulumi-swarm'`,
        `ufw allow from ${ip(p)} to any port 4789 proto udp comment 'pulumi-swarm'`,
        `ufw allow from ${ip(p)} proto esp comment 'pulumi-swarm'`,
      ])
      .sort();

  beforeAll(async () => {
    if (!fs.existsSync("/usr/sbin/ufw"))
      throw new Error("ufw is not installed (apt-get install ufw; .ci/run does)");
    lab = await Lab.up(23, 3);
    for (const h of names)
      await lab.sh(h, "ufw allow 22/tcp >/dev/null && ufw --force enable >/dev/null && ufw status | head -1");
  });
  afterAll(async () => {
    await lab?.down();
  });

  it("opens the swarm ports to the other members only, and a re-run changes nothing", async () => {
    for (const h of names) {
      const result = await lab.ssh(h, prepare(names.filter((n) => n !== h)));
      expect(result.code).toBe(0);
      expect(result.stderr).toContain("ufw: swarm ports open to 2 peer(s)");
    }
    expect(await added("lab23-1")).toEqual(expected(["lab23-2", "lab23-3"]));
    const before = await lab.sh("lab23-1", "ufw status numbered");
    await lab.sh("lab23-1", prepare(["lab23-2", "lab23-3"]));
    expect(await lab.sh("lab23-1", "ufw status numbered")).toBe(before);
    expect(await lab.sh("lab23-1", "ufw status")).not.toMatch(/2375|2376/);
  });

  it("forms a swarm whose overlay network works through the firewalls", async () => {
    const [a, b, c] = names;
    const init = asRemoteCommand(
      renderInitScript({
        advertiseAddr: ip(a),
        otherManagers: [],
        dataPathPort: 4789,
        defaultAddrPool: [],
        certExpiry: "2160h0m0s",
        autolock: false,
      }),
    );
    const summary = JSON.parse((await lab.sh(a, init)).trim()) as { workerToken: string; clusterId: string };
    const join = asRemoteCommand(renderJoinScript({ cluster: "fw", claim: "c1" }));
    for (const h of [b, c]) {
      const body = {
        ListenAddr: "0.0.0.0:2377",
        AdvertiseAddr: ip(h),
        RemoteAddrs: [`${ip(a)}:2377`],
        JoinToken: summary.workerToken,
      };
      await lab.sh(h, join, `${JSON.stringify(body)}\n\n${summary.clusterId}\n`);
    }
    expect(
      await eventually(60, async () => (await lab.nodes(a)).filter((n) => n.state === "ready").length === 3),
    ).toBe(true);
    await lab.sh(a, "docker network create -d overlay --attachable fwnet >/dev/null");
    await lab.sh(
      a,
      "docker service create -d -q --name web --network fwnet --mode global --endpoint-mode dnsrr lab/busybox:latest httpd -f -p 8080 -h /etc >/dev/null",
    );
    expect(
      await eventually(
        90,
        async () =>
          (await lab.sh(a, "docker service ls --format '{{.Replicas}}' --filter name=web")).trim() === "3/3",
      ),
    ).toBe(true);
    // From a container on the first node, reach every task over the overlay (VXLAN through ufw).
    // Without the rules, ufw's default deny drops 4789/udp and only the local task answers.
    const probe =
      "docker run --rm --network fwnet lab/busybox:latest sh -c 'for ip in $(nslookup web 2>/dev/null | sed -n \"s/^Address: //p\"); do timeout 3 wget -qO- http://$ip:8080/hostname; done'";
    let hostnames: string[] = [];
    await eventually(60, async () => {
      hostnames = (await lab.sh(a, probe)).trim().split("\n").filter(Boolean);
      return hostnames.length === 3;
    });
    expect(hostnames).toHaveLength(3);
  });

  it("removes the rules of a member that is gone", async () => {
    await lab.sh("lab23-1", prepare(["lab23-2"]));
    expect(await added("lab23-1")).toEqual(expected(["lab23-2"]));
  });
});
