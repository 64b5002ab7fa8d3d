/**
 * The smoke test's Pulumi programs, run inline by the Automation API (see run.ts): the engine starts
 * a real provider plugin process, keeps state in the file backend and encrypts secrets with the
 * passphrase provider.
 */
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";

/** What the echo provider stores: its inputs plus what `echo` printed. */
interface EchoState {
  message: string;
  journal: string;
  stdout: string;
}

/**
 * Runs `echo` on this machine and appends every create and delete to a journal file, so the test can
 * prove that an `up` with nothing changed runs nothing. The engine runs it in the
 * pulumi-resource-pulumi-nodejs plugin from a serialized closure: modules are required inside the
 * methods so that the serializer captures `require`, not module objects.
 */
const echoProvider: pulumi.dynamic.ResourceProvider<Omit<EchoState, "stdout">, EchoState> = {
  async create(inputs) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- see the comment on echoProvider
    const childProcess = require("child_process") as typeof import("child_process");
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- see the comment on echoProvider
    const fs = require("fs") as typeof import("fs");
    const stdout = childProcess.execFileSync("echo", [inputs.message], { encoding: "utf8" }).trim();
    fs.appendFileSync(inputs.journal, `create ${inputs.message}\n`);
    return { id: `echo-${Date.now()}`, outs: { ...inputs, stdout } };
  },
  async diff(_id, olds, news) {
    const changed = (["message", "journal"] as const).filter((key) => olds[key] !== news[key]);
    return { changes: changed.length > 0, replaces: changed };
  },
  async delete(_id, props) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- see the comment on echoProvider
    const fs = require("fs") as typeof import("fs");
    fs.appendFileSync(props.journal, `delete ${props.message}\n`);
  },
};

class Echo extends pulumi.dynamic.Resource {
  declare readonly stdout: pulumi.Output<string>;

  constructor(name: string, args: { message: string; journal: string }, opts?: pulumi.CustomResourceOptions) {
    super(echoProvider, name, { ...args, stdout: undefined }, opts, "smoke", "Echo");
  }
}

/** The text the echo resource prints; the test expects it back as the `stdout` output. */
export const ECHO_MESSAGE = "hello from the pulumi-swarm engine smoke test";

/**
 * One echo resource and the secret config value `token` exported as a stack output.
 * @param journal file the echo provider appends its creates and deletes to
 */
export function echoProgram(journal: string): () => Promise<Record<string, pulumi.Output<string>>> {
  return async () => {
    const token = new pulumi.Config().requireSecret("token");
    const echo = new Echo("hello", { message: ECHO_MESSAGE, journal });
    return { stdout: echo.stdout, token };
  };
}

/** The text the command provider's local.Command prints. */
export const COMMAND_MESSAGE = "command-provider-ok";

/** One @pulumi/command local.Command: needs the pulumi-resource-command 1.2.1 plugin. */
export function commandProgram(): () => Promise<Record<string, pulumi.Output<string>>> {
  return async () => {
    const echo = new command.local.Command("echo", { create: `echo ${COMMAND_MESSAGE}` });
    return { stdout: echo.stdout };
  };
}
