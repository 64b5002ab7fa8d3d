/*
 * A program run in its own Node.js process by test/unit/late-refusal.test.ts, under a memory cap,
 * set up as the Pulumi Node.js language host sets up every program (@pulumi/pulumi cmd/run): a V8
 * debugger session enabled before the program starts (v8Hooks.isInitializedAsync), source maps on
 * (source-map-support), and every uncaught error recorded with `util.inspect(err, { colors: true })`
 * (cmd/run/run.js, for tracing). One component is given an Output that resolves to a refused
 * value; the program prints one JSON line: how long the refusal took, its message, what it was
 * tied to, the length of its inspected text and the resources registered.
 *
 * Scenario (argv[2]):
 *   cluster        a SwarmCluster whose insecureRegistries holds pulumi.output("10.0.0.9:80/v2");
 *   trust          a RegistryTrust whose caCertificate is an Output of text that is not PEM;
 *   control-await  a check that throws after an await, under a few Outputs derived from it;
 *   control-frames a check that throws synchronously an error with its stack frames.
 * The two controls are what the refusal must never do: the harness must catch both.
 */
import "source-map-support/register";
import * as inspector from "inspector";
import * as util from "util";
import * as pulumi from "@pulumi/pulumi";
import { installMocks } from "./mocks";

interface Report {
  ms: number;
  message: string;
  tiedTo?: string;
  /** Length of `util.inspect(error, { colors: true })`, as the language host records it. */
  inspected: number;
  resources: string[];
}

/** Enables the debugger in this process the way the language host does, and keeps the session. */
async function enableDebugger(): Promise<inspector.Session> {
  const session = new inspector.Session();
  session.connect();
  await new Promise<void>((resolve, reject) =>
    session.post("Debugger.enable", (err) => (err ? reject(err) : resolve())),
  );
  return session;
}

/** The first unhandled rejection whose message contains `text`, with the time it took. */
function firstRejection(text: string, started: number): Promise<{ ms: number; error: Error }> {
  return new Promise((resolve) => {
    process.on("unhandledRejection", (reason) => {
      if (reason instanceof Error && reason.message.includes(text))
        resolve({ ms: Date.now() - started, error: reason });
    });
  });
}

async function main(scenario: string): Promise<Report> {
  const created: string[] = [];
  await installMocks({
    newResource: (args) => {
      created.push(`${args.type} ${args.name}`);
      return undefined;
    },
  });
  const session = await enableDebugger();
  // The library only for the scenarios that use it (compiling it takes seconds).
  const lib = scenario.startsWith("control-") ? undefined : await import("../../index");
  const host = {
    name: "node-1",
    connection: { host: "10.0.0.1", user: "root", privateKey: pulumi.secret("K") },
    advertiseAddr: "10.0.0.1",
  };
  const started = Date.now();
  let refusal: Promise<{ ms: number; error: Error }>;
  let owner: pulumi.Resource | undefined;
  if (scenario === "cluster") {
    refusal = firstRejection("insecureRegistries[0]", started);
    owner = new lib!.SwarmCluster("late", {
      nodes: [{ host, role: "manager" }],
      insecureRegistries: [pulumi.output("10.0.0.9:80/v2")],
      dockerProvider: false,
    });
  } else if (scenario === "trust") {
    refusal = firstRejection("caCertificate", started);
    owner = new lib!.RegistryTrust("late", {
      hosts: [host],
      registry: pulumi.output("10.0.0.9"),
      caCertificate: pulumi.output<string | undefined>("not a certificate"),
    });
  } else if (scenario === "control-await" || scenario === "control-frames") {
    refusal = firstRejection("refused", started);
    const check = (v: string) => {
      if (v === "bad") throw new pulumi.ResourceError("refused", undefined, true);
      return v;
    };
    let value =
      scenario === "control-await"
        ? pulumi.output("bad").apply(async (v) => {
            await Promise.resolve();
            return check(v);
          })
        : pulumi.output("bad").apply(check);
    for (let i = 0; i < 3; i++) {
      const a = value.apply((v) => `${v}a`);
      const b = value.apply((v) => `${v}b`);
      value = pulumi.all([a, b]).apply(([x, y]) => x + y);
    }
  } else {
    throw new Error(`unknown scenario ${scenario}`);
  }
  const { ms, error } = await refusal;
  const inspected = util.inspect(error, { colors: true }).length;
  // The resources the program registered besides the component itself, after the rest settled.
  await new Promise((r) => setTimeout(r, 500));
  session.disconnect();
  const resource = pulumi.ResourceError.isInstance(error) ? error.resource : undefined;
  return {
    ms,
    message: error.message,
    tiedTo: resource === undefined ? undefined : resource === owner ? "owner" : "another resource",
    inspected,
    resources: created,
  };
}

main(process.argv[2] ?? "").then(
  (report) => {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
