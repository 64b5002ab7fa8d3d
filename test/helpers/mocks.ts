import * as pulumi from "@pulumi/pulumi";

/** The secret wrapper the engine uses for secret inputs under mocks (see shared/PULUMI-FACTS.md). */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** One resource the program registered, as the mocks saw it. */
export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  provider?: string;
  custom?: boolean;
}

/** One data-source / function call the program made, as the mocks saw it. */
export interface RecordedCall {
  token: string;
  inputs: Record<string, unknown>;
}

/** What a test wants to answer for a resource or a call instead of echoing the inputs. */
export interface MockBehaviour {
  /** Return the state for a new resource; `undefined` falls back to echoing its inputs. */
  newResource?: (
    args: pulumi.runtime.MockResourceArgs,
  ) => Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;
  /** Return the result of a call; `undefined` falls back to `{}`. */
  call?: (args: pulumi.runtime.MockCallArgs) => Record<string, unknown> | undefined;
  /** Run as a preview (unknown values stay unknown). Default: false. */
  preview?: boolean;
}

/** The log of a mocked run, filled as the program registers resources. */
export interface MockRun {
  resources: RecordedResource[];
  calls: RecordedCall[];
  /** Resources of one type, in registration order. */
  ofType(type: string): RecordedResource[];
  /** The one resource with this name; throws when there is none or several. */
  named(name: string): RecordedResource;
  /**
   * Names of the resources the last resource registered under `name` depends on, as the runtime
   * sent them to the engine (explicit `dependsOn` and the inputs' own dependencies).
   */
  dependenciesOf(name: string): string[];
}

/**
 * Installs Pulumi mocks that record every resource and call. Import the code under test after
 * awaiting this (the runtime reads the mocks when the module registers resources).
 */
export async function installMocks(behaviour: MockBehaviour = {}): Promise<MockRun> {
  const resources: RecordedResource[] = [];
  const calls: RecordedCall[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: async (args) => {
        resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs as Record<string, unknown>,
          provider: args.provider,
          custom: args.custom,
        });
        const custom = behaviour.newResource ? await behaviour.newResource(args) : undefined;
        // The runtime passes "" (not undefined) for a new resource id.
        return { id: args.id || `${args.name}-id`, state: custom ?? { ...args.inputs } };
      },
      call: (args) => {
        calls.push({ token: args.token, inputs: args.inputs as Record<string, unknown> });
        return behaviour.call?.(args) ?? {};
      },
    },
    "pulumi-swarm",
    "test",
    behaviour.preview ?? false,
  );
  // The registration request carries the dependencies the engine would order steps by; the mocks'
  // newResource does not see them, so they are read off the request on its way to the mock monitor.
  const dependencies = new Map<string, string[]>();
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource: (req: RegisterRequest, callback: unknown) => unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    dependencies.set(
      req.getName(),
      req.getDependenciesList().map((urn) => urn.split("::").pop() ?? urn),
    );
    return register(req, callback);
  };
  return {
    resources,
    calls,
    dependenciesOf: (name) => {
      const found = dependencies.get(name);
      if (!found) throw new Error(`no resource named ${name} was registered`);
      return found;
    },
    ofType: (type) => resources.filter((r) => r.type === type),
    named: (name) => {
      const found = resources.filter((r) => r.name === name);
      if (found.length !== 1) throw new Error(`expected one resource named ${name}, found ${found.length}`);
      return found[0];
    },
  };
}

/** The part of a RegisterResourceRequest read above. */
interface RegisterRequest {
  getName(): string;
  getDependenciesList(): string[];
}

/** Resolves an Output to its value; fails the test when the value never becomes known. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("output never resolved")), 10_000);
    output.apply((value) => {
      clearTimeout(timer);
      resolve(value);
      return value;
    });
  });
}

/** Whether an Output is marked secret. */
export function isSecretOutput(output: pulumi.Output<unknown>): Promise<boolean> {
  return (output as unknown as { isSecret: Promise<boolean> }).isSecret;
}

/** True when a recorded input value is the engine's secret wrapper. */
export function isSecretInput(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG_VALUE
  );
}

/** Removes the secret wrappers from a recorded input, recursively, to compare plain values. */
export function unwrapSecrets(value: unknown): unknown {
  if (isSecretInput(value)) return unwrapSecrets((value as { value: unknown }).value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/** Waits until the runtime has registered everything the program started (outputs settle). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 50));
}
