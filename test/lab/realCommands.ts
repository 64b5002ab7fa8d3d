import * as pulumi from "@pulumi/pulumi";
import { unwrapSecrets } from "../helpers/mocks";
import { Lab } from "./lab";

/** One remote.Command the program created, run for real over SSH. */
export interface ExecutedCommand {
  name: string;
  host: string;
  create: string;
  delete?: string;
  stdin?: string;
  stdout: string;
  stderr: string;
  code: number;
  ms: number;
}

/** The log of one program run against the lab. */
export interface ProgramRun {
  commands: ExecutedCommand[];
  failures: string[];
  resources: { type: string; name: string }[];
  byName(name: string): ExecutedCommand;
}

/**
 * Installs Pulumi mocks under which every `command:remote:Command` runs its `create` over real SSH
 * on the lab host named by its connection (any other address is refused by the lab), with its
 * stdin, and returns the real stdout: the program's wiring and order run end to end.
 */
export async function mockWithRealCommands(lab: Lab): Promise<ProgramRun> {
  const commands: ExecutedCommand[] = [];
  const failures: string[] = [];
  const resources: { type: string; name: string }[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: async (args) => {
        resources.push({ type: args.type, name: args.name });
        if (args.type !== "command:remote:Command") return { id: `${args.name}-id`, state: args.inputs };
        const inputs = unwrapSecrets(args.inputs) as {
          connection: { host: string };
          create: string;
          delete?: string;
          stdin?: string;
        };
        const started = Date.now();
        const result = await lab.ssh(inputs.connection.host, inputs.create, inputs.stdin ?? "");
        const executed: ExecutedCommand = {
          name: args.name,
          host: inputs.connection.host,
          create: inputs.create,
          delete: inputs.delete,
          stdin: inputs.stdin,
          stdout: result.stdout,
          stderr: result.stderr,
          code: result.code,
          ms: Date.now() - started,
        };
        commands.push(executed);
        if (result.code !== 0) {
          failures.push(
            `${args.name} on ${inputs.connection.host} exited ${result.code}: ${result.stderr.trim()}`,
          );
          throw new Error(`${args.name} failed`);
        }
        return {
          id: `${args.name}-id`,
          state: { ...args.inputs, stdout: result.stdout, stderr: result.stderr },
        };
      },
      call: () => ({}),
    },
    "pulumi-swarm",
    "lab",
    false,
  );
  return {
    commands,
    failures,
    resources,
    byName: (name) => {
      const found = commands.find((c) => c.name === name);
      if (!found)
        throw new Error(`no command named ${name} ran; ran: ${commands.map((c) => c.name).join(", ")}`);
      return found;
    },
  };
}

/** Resolves an output, or rejects with the commands that failed when it never resolves. */
export function settleOutput<T>(output: pulumi.Output<T>, run: ProgramRun, timeoutMs = 600_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const poll = setInterval(() => {
      if (run.failures.length > 0) {
        clearInterval(poll);
        clearTimeout(timer);
        reject(new Error(`the program failed:\n${run.failures.join("\n")}`));
      }
    }, 200);
    const timer = setTimeout(() => {
      clearInterval(poll);
      reject(
        new Error(
          `output did not resolve in ${timeoutMs} ms; ran: ${run.commands.map((c) => c.name).join(", ")}`,
        ),
      );
    }, timeoutMs);
    output.apply((value) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve(value);
      return value;
    });
  });
}
