import * as pulumi from "@pulumi/pulumi";
import { unwrapSecrets } from "./mocks";
import { normalizeKey } from "../../components/ssh/hostKeyProvider";

const DYNAMIC = "pulumi-nodejs:dynamic:Resource";

/**
 * What a SwarmCluster with host-key pins needs from the mocks: each pin "learns" `learned(host)`
 * (or keeps the key it was given), node resources get ids from their names, the swarm resource its
 * tokens, `init` prints its summary and each join the node's id. `undefined` for anything else, so a
 * test can answer its own resources first.
 */
export function pinnedClusterAnswer(
  args: pulumi.runtime.MockResourceArgs,
  learned: (host: string) => string,
): Record<string, unknown> | undefined {
  const inputs = args.inputs as Record<string, unknown>;
  if (args.type === DYNAMIC && inputs.kind === "swarm:cluster:HostKey") {
    const given = String(unwrapSecrets(inputs.given) ?? "");
    return { ...inputs, hostKey: given ? normalizeKey(given) : learned(String(inputs.host)) };
  }
  const node = /-node-(\d+)-node$/.exec(args.name);
  if (args.type === DYNAMIC && node) return { ...inputs, nodeId: `id-${node[1]}` };
  if (args.type === DYNAMIC) return { ...inputs, tokens: { worker: "w", manager: "m" } };
  if (args.type !== "command:remote:Command") return undefined;
  if (args.name.endsWith("-init"))
    return {
      ...inputs,
      stdout: `${JSON.stringify({ clusterId: "c", nodeId: "id-1", workerToken: "w", managerToken: "m", unlockKey: "" })}\n`,
    };
  const join = /-node-(\d+)-join$/.exec(args.name);
  return { ...inputs, stdout: join ? `id-${join[1]}\n` : "ok\n" };
}
