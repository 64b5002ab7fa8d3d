import * as pulumi from "@pulumi/pulumi";

/**
 * A bad argument, found before anything was created. The message always names the argument, the
 * value received and the fix, so a user can act on it without reading the source. It is a
 * `pulumi.ResourceError` (not tied to a resource; the engine prints it without a stack trace), so
 * `pulumi.ResourceError` is the one type to catch for every error this library raises: components
 * raise ResourceErrors tied to themselves, pure checks (`rules`, `existingHosts`) raise this.
 */
export class ValidationError extends pulumi.ResourceError {
  constructor(
    readonly argument: string,
    readonly received: unknown,
    readonly fix: string,
  ) {
    super(`${argument}: received ${describeValue(received)}. ${fix}`, undefined, true);
    this.name = "ValidationError";
    withoutFrames(this);
  }
}

/**
 * The error a component raises when an argument, a lookup or a host's answer turns out bad after
 * construction: a `pulumi.ResourceError` prefixed with the component's type and name, tied to it
 * (when constructed), shown without a stack trace and carrying no stack frames (see
 * {@link withoutFrames}).
 */
export function componentError(owner: CheckOwner, message: string): pulumi.ResourceError {
  return withoutFrames(
    new pulumi.ResourceError(`${owner.type} "${owner.name}": ${message}`, owner.resource, true),
  );
}

/**
 * Drops the stack frames of an error the engine shows without a stack anyway. Why: the Pulumi
 * language host records every uncaught error with `util.inspect(err, { colors: true })` (also
 * hideStack ones, cmd/run/run.js), and Node.js 20.20's inspect loops forever, allocating without
 * bound, on a frame under `node_modules/@scope/<file>` (nodejs/node#64011), which is where
 * @pulumi/pulumi's source maps put its own frames: an error created inside an apply made the
 * program grow until killed instead of failing.
 */
export function withoutFrames<E extends Error>(error: E): E {
  error.stack = `${error.name}: ${error.message}`;
  return error;
}

/**
 * Runs `check` inside an apply (when a looked-up or resolved value is known) and turns any error
 * it throws into the component's `pulumi.ResourceError`: prefixed with the component's type and
 * name and tied to it, like a late {@link checkedInput} failure. An error already tied to a
 * resource passes through as it is, without its stack frames.
 */
export function checkedLate<T>(owner: CheckOwner, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (pulumi.ResourceError.isInstance(err) && err.resource !== undefined) throw withoutFrames(err);
    throw componentError(owner, err instanceof Error ? err.message : String(err));
  }
}

/** Throws a {@link ValidationError}; the return type lets callers use it in expressions. */
export function fail(argument: string, received: unknown, fix: string): never {
  throw new ValidationError(argument, received, fix);
}

/** Stands for a received value that is a secret: messages say "a secret value", never the value. */
export const SECRET_VALUE: unique symbol = Symbol("secret value");

/** Renders a received value for an error message without ever printing a secret or a huge blob. */
export function describeValue(value: unknown): string {
  if (value === SECRET_VALUE) return "a secret value";
  if (pulumi.Output.isInstance(value)) return "an Output";
  if (typeof value === "string")
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (value === undefined) return "undefined";
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return String(value);
  }
}

/**
 * Runs the validators of a component before its constructor registers anything, and turns a
 * {@link ValidationError} into the `pulumi.ResourceError` the engine shows, prefixed with the
 * component's type and name.
 */
export function validateComponentArgs<T>(type: string, name: string, validate: () => T): T {
  try {
    return validate();
  } catch (err) {
    if (err instanceof ValidationError) throw componentError({ type, name }, err.message);
    throw err;
  }
}

/**
 * The component a check belongs to, for errors raised when an Output resolves. Create it before
 * validating (`{ type, name }`) and set `resource` right after `super(...)`, so a late error is tied
 * to the component in the engine's output.
 */
export interface CheckOwner {
  /** The component's type token, e.g. "swarm:hosts:AwsHosts". */
  type: string;
  /** The component's name. */
  name: string;
  /** The component itself, once constructed. Default: none (the error is not tied to a resource). */
  resource?: pulumi.Resource;
}

/** A check of one value: throws a {@link ValidationError} naming `argument` when the value is bad. */
export type InputCheck<T> = (argument: string, value: T) => void;

/**
 * Checks an argument with the same rule and message whether it is known now or arrives as an
 * Output. A known value is checked at once (a {@link ValidationError} is thrown, for
 * {@link validateComponentArgs} to report) and returned as is. Anything else is returned as an
 * Output that resolves to the value once it passes, or rejects with the same message: a
 * `pulumi.ResourceError` prefixed and tied to `owner` when one is given, else the ValidationError.
 * Resources that take the returned Output wait for it, so nothing that would use a bad value runs.
 * A secret value is never echoed: the message then says "received a secret value" (a check that
 * shows a placeholder of its own instead of the value, such as "(empty)", keeps it).
 */
export function checkedInput<T>(
  argument: string,
  input: pulumi.Input<T>,
  check: InputCheck<T>,
  owner?: CheckOwner,
): pulumi.Input<T> {
  if (isKnown(input)) {
    check(argument, input);
    return input;
  }
  const output = pulumi.output(input) as pulumi.Output<T>;
  // Whether the value is secret arrives WITH the value, so the check below runs and throws
  // synchronously. It must not await before it throws: with a debugger session enabled (the
  // Node.js language host opens one before every program starts, for closure serialization), V8
  // answers a `throw` in an async function resumed from an `await` by walking every promise
  // derived from that function's own, path by path, looking for a reject handler: here the whole
  // graph of Outputs and resources built on this argument (a cluster's registry: past 20 GB while
  // `pulumi up` hung). Thrown synchronously, the rejection reaches that graph as an ordinary
  // promise rejection, which V8 does not walk. (test/unit/late-refusal.test.ts holds this.)
  const secret = pulumi.output(pulumi.isSecret(output));
  return pulumi.all([output, secret]).apply(([resolved, isSecret]) => {
    const value = resolved as T;
    try {
      check(argument, value);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err instanceof Error ? withoutFrames(err) : err;
      // A secret is never shown: mask what the check received unless it already shows a
      // placeholder of its own (e.g. "(empty)") that does not contain the value.
      const shown = describeValue(err.received);
      const echoes =
        err.received === value || (typeof value === "string" && value !== "" && shown.includes(value));
      const error = echoes && isSecret ? new ValidationError(err.argument, SECRET_VALUE, err.fix) : err;
      throw owner === undefined ? error : componentError(owner, error.message);
    }
    return value;
  }) as pulumi.Output<T>;
}

/** True for a value the program knows now (not an Output, which is resolved later by the engine). */
export function isKnown<T>(value: pulumi.Input<T> | undefined): value is T {
  return value !== undefined && !pulumi.Output.isInstance(value) && !(value instanceof Promise);
}

const IPV4_OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = new RegExp(`^${IPV4_OCTET}(\\.${IPV4_OCTET}){3}$`);

/** True for a dotted-quad IPv4 address. */
export function isIpv4(value: string): boolean {
  return IPV4.test(value);
}

/** True for an IPv4 CIDR block whose address has no bits set past the prefix (e.g. 10.0.0.0/16). */
export function isIpv4Cidr(value: string): boolean {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(value);
  if (!match || !isIpv4(match[1])) return false;
  const prefix = Number(match[2]);
  if (prefix > 32) return false;
  const address = match[1].split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const hostBits = 32 - prefix;
  return hostBits === 0 || address % 2 ** hostBits === 0;
}

/** True for an integer TCP/UDP port, 1-65535. */
export function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** True for a name usable in resource names, hostnames and shell words: a DNS label. */
export function isDnsLabel(value: string): boolean {
  return /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(value);
}

/** True for a hostname or IPv4 address that SSH can dial. */
export function isHostAddress(value: string): boolean {
  return (
    isIpv4(value) ||
    /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(
      value,
    )
  );
}

/** Throws when `value` is known and not a DNS label. */
export function requireDnsLabel(argument: string, value: string): void {
  if (!isDnsLabel(value)) {
    fail(
      argument,
      value,
      "Use 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit (it becomes part of resource names and hostnames).",
    );
  }
}

/**
 * Throws when `value` is given and is not a boolean. Values from untyped config (YAML, JSON) can be
 * "true" or "no", which JavaScript would read as true: refuse them instead of guessing.
 */
export function requireBoolean(argument: string, value: unknown): void {
  if (value !== undefined && typeof value !== "boolean") {
    fail(argument, value, "Use true or false (a boolean, not a string or a number).");
  }
}

/** Throws when `value` is not a port. */
export function requirePort(argument: string, value: number): void {
  if (!isPort(value)) fail(argument, value, "Use an integer port between 1 and 65535.");
}

/** Throws when `value` is not an IPv4 CIDR block. */
export function requireCidr(argument: string, value: string): void {
  if (!isIpv4Cidr(value)) {
    fail(
      argument,
      value,
      'Use an IPv4 CIDR block with no host bits set, e.g. "10.0.0.0/16" or "203.0.113.7/32".',
    );
  }
}
