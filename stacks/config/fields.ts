/**
 * Field builders of the config schema: every field carries its own fix, used for a wrong type, a
 * missing value and a failed check alike. Rules the components own are applied with {@link ruled},
 * so the config and the components refuse the same values with the same fix.
 */
import { z } from "zod";
import { rules, ValidationError } from "../../index";

// Field builders: every field carries its own fix, used for a wrong type, a missing value and a
// failed check alike.

export const LABEL_FIX =
  "Use 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit (it becomes part of resource and host names).";

export const str = (fix: string) => z.string({ error: fix });
export const bool = (fix = "Use true or false.") => z.boolean({ error: fix });
export const int = (min: number, max: number, fix: string) =>
  z.number({ error: fix }).int({ error: fix }).min(min, { error: fix }).max(max, { error: fix });
export const dnsLabel = (fix = LABEL_FIX) => str(fix).refine(rules.isDnsLabel, { error: fix });
export const ipv4 = (fix: string) => str(fix).refine(rules.isIpv4, { error: fix });
export const hostAddress = (fix: string) => str(fix).refine(rules.isHostAddress, { error: fix });
export const cidr = (fix = 'Use an IPv4 CIDR block with no host bits set, e.g. "203.0.113.0/24".') =>
  str(fix).refine(rules.isIpv4Cidr, { error: fix });
export const port = (fix = "Use a whole port number between 1 and 65535.") => int(1, 65535, fix);
export const loginUser = (fix = 'Use a plain login name such as "root" or "ubuntu".') =>
  str(fix).regex(/^[a-z_][a-z0-9_-]*$/, { error: fix });
export const stringMap = (fix: string) =>
  z.record(z.string({ error: fix }), z.string({ error: fix }), { error: fix });
export const nonEmptyList = <T extends z.ZodType>(item: T, fix: string) =>
  z.array(item, { error: fix }).min(1, { error: fix });
export const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `Use one of ${values.map((v) => `"${v}"`).join(", ")}.` });

/**
 * `base` held to a component's rule (`check` throws a ValidationError): a value the rule refuses is
 * reported with the rule's own fix, so the config says what the component would.
 */
export const ruled = <T>(base: z.ZodType<T>, check: (argument: string, value: T) => void) =>
  base.superRefine((value, ctx) => {
    try {
      check("value", value);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      ctx.addIssue({ code: "custom", message: err.fix, input: err.received });
    }
  });

/** Node labels, each held to the cluster's label rule (the key or value refused is the one reported). */
export const labelMap = stringMap('Use a map of label names to values, e.g. { tier: "web" }.').superRefine(
  (labels, ctx) => {
    for (const [key, value] of Object.entries(labels)) {
      try {
        rules.requireNodeLabels("labels", { [key]: value });
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        ctx.addIssue({ code: "custom", path: [key], message: err.fix, input: err.received });
      }
    }
  },
);

/** `hostKeys`: pin the SSH host keys of the hosts a layer reaches (default), or not. */
export const hostKeysMode = () => oneOf(["pin", "off"] as const);

const FINGERPRINTS_FIX =
  'Use a map of host names to the fingerprints the refusal printed, e.g. { "prod-2": "SHA256:..." }.';

/** `acceptHostKeys`: host name (or "bastion:<address>") -> fingerprint, each held to the components' rule. */
export const fingerprintMap = () =>
  z.record(
    z.string({ error: FINGERPRINTS_FIX }),
    ruled(str(FINGERPRINTS_FIX), rules.requireHostKeyFingerprint),
    { error: FINGERPRINTS_FIX },
  );

/** A swarm object name (network, service, stack) as Docker accepts it. */
export const swarmName = (what: string) =>
  str(`Use a ${what} name of letters, digits, '_', '.' or '-' (starting with a letter or digit).`).regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/,
    { error: `Use a ${what} name of letters, digits, '_', '.' or '-' (starting with a letter or digit).` },
  );
