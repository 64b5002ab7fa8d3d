/** The schema of `pulumi-swarm:cluster`: the swarm's size, labels and settings, held to SwarmCluster's own rules. */
import { z } from "zod";
import { rules } from "../../index";
import {
  bool,
  cidr,
  dnsLabel,
  fingerprintMap,
  hostKeysMode,
  int,
  labelMap,
  nonEmptyList,
  oneOf,
  ruled,
  str,
} from "./fields";

const oddCounts = Array.from({ length: rules.MAX_MANAGERS }, (_, i) => i + 1).filter((n) =>
  rules.isValidManagerCount(n),
);
const MANAGERS_FIX = `Use an odd number of managers: ${oddCounts.slice(0, -1).join(", ")} or ${oddCounts[oddCounts.length - 1]} (3 survives losing one).`;

export const clusterSchema = z.strictObject({
  name: dnsLabel().default("swarm"),
  managers: int(1, rules.MAX_MANAGERS, MANAGERS_FIX).refine((n) => rules.isValidManagerCount(n), {
    error: MANAGERS_FIX,
  }),
  workers: int(0, 100, "Use a whole number of workers between 0 and 100.").default(0),
  managerLabels: labelMap.optional(),
  workerLabels: labelMap.optional(),
  managerAvailability: oneOf(["active", "drain"] as const).default("active"),
  autolock: bool().optional(),
  encryptOverlays: bool().optional(),
  certExpiry: ruled(
    str('Use a duration such as "2160h" or "90d" (units d, h, m, s), at least 1h.'),
    rules.normalizeCertExpiry,
  ).optional(),
  dataPathPort: ruled(
    int(1024, 49151, "Use a UDP port in 1024-49151 other than 2377 and 7946 (default 4789)."),
    rules.requireDataPathPort,
  ).optional(),
  defaultAddrPool: nonEmptyList(
    cidr('Use an IPv4 CIDR block such as "10.20.0.0/16".'),
    'List blocks such as ["10.20.0.0/16"].',
  ).optional(),
  defaultAddrPoolMaskLength: int(8, 29, "Use a prefix length between the pool's and 29, e.g. 24.").optional(),
  hostFirewall: oneOf(["auto", "none"] as const).optional(),
  installDocker: bool().optional(),
  registryMirrors: z
    .array(
      ruled(str('Use an http(s) URL such as "https://mirror.example.com".'), rules.validateRegistryMirror),
      {
        error: 'Use a list of URLs such as ["https://mirror.example.com"].',
      },
    )
    .optional(),
  insecureRegistries: z
    .array(ruled(str('Use "host:port" or a CIDR.'), rules.validateInsecureRegistry), {
      error: 'Use a list such as ["registry.internal:5000"].',
    })
    .optional(),
  // SwarmCluster's hostKeys / acceptHostKeys (names: the node host names, or "bastion:<address>").
  hostKeys: hostKeysMode().optional(),
  acceptHostKeys: fingerprintMap().optional(),
});

/** The parsed `pulumi-swarm:cluster` (defaults applied). */
export type ClusterConfig = z.output<typeof clusterSchema>;
