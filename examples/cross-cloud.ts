import * as pulumi from "@pulumi/pulumi";
import { AlicloudHosts } from "../components/hosts/alicloud/alicloudHosts";
import { existingHosts } from "../components/hosts/existing";
import { SwarmCluster } from "../components/cluster/swarmCluster";
import { OverlayNetwork } from "../components/workloads/overlayNetwork";

/**
 * One swarm across three clouds: three Alibaba Cloud managers created here, plus a Huawei Cloud
 * and a Tencent Cloud server that already exist, joined as workers.
 *
 * Swarm traffic crosses the internet, so:
 * - every node advertises its public IP (`advertise: "public"` is implied by `peerCidrs`);
 * - the Alibaba Cloud security group opens 2377/tcp, 7946/tcp+udp, 4789/udp and ESP only to its own
 *   members' and the two other servers' /32 addresses, SSH only to `adminCidrs`;
 * - the cluster takes the group's `clusterNetwork` (it spans networks), so overlays are encrypted by default (VXLAN
 *   itself is plain text) and host firewalls admit ESP between members.
 * The Huawei and Tencent servers' own cloud security groups are not managed here: open the same
 * ports there to the Alibaba Cloud hosts' `publicIps` (as /32) and to each other.
 *
 * Config (`pulumi config set ...`): `adminCidr` (e.g. "203.0.113.7/32"), `huaweiIp`, `tencentIp`,
 * and the secret `existingKey` (`pulumi config set --secret existingKey "$(cat ~/.ssh/id_ed25519)"`).
 */
export function crossCloudSwarm() {
  const config = new pulumi.Config();
  const adminCidr = config.require("adminCidr");

  const others = existingHosts(
    [
      { name: "huawei-1", host: config.require("huaweiIp") },
      { name: "tencent-1", host: config.require("tencentIp"), user: "ubuntu" },
    ],
    // Public addresses in two other clouds: the servers span networks.
    { privateKey: config.requireSecret("existingKey"), spansNetworks: true },
  );

  const ali = new AlicloudHosts("ali", {
    count: 3,
    region: "cn-hangzhou",
    adminCidrs: [adminCidr],
    peerCidrs: others.clusterNetwork.peerCidrs,
  });

  const cluster = new SwarmCluster("swarm", {
    nodes: [
      ...ali.hosts.map((host) => ({ host, role: "manager" as const })),
      ...others.hosts.map((host) => ({
        host,
        role: "worker" as const,
        labels: { cloud: host.name.split("-")[0] },
      })),
    ],
    network: [ali.clusterNetwork, others.clusterNetwork],
  });

  // Encrypted because the cluster spans networks (the default follows cluster.spansNetworks).
  const backend = new OverlayNetwork("backend", { cluster });

  return {
    managerAddress: cluster.managerAddress,
    alicloudPublicIps: ali.publicIps,
    sshPrivateKey: ali.privateKey,
    backendEncrypted: backend.encrypted,
  };
}
