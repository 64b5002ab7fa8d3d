/*
 * Host key pinning as every component that reaches hosts over SSH does it (the SwarmCluster and the
 * delivery platform's components): the same two arguments, the same checks, the same pins.
 *
 * Each host gets one pin, `<component>-<host>-host-key`; each distinct bastion (`connection.proxy`)
 * one more, shared by every host behind it, `<component>-bastion.<address>[-<port>]-host-key`. The
 * host's pin probes through the bastion with the bastion's pinned key, and every connection handed
 * on carries both keys, so the hop to the bastion is verified wherever the connection goes
 * (commands, node resources, the Docker provider's ssh).
 *
 * A host that already carries a pin (from `SwarmCluster.hosts` or `.managerHost`) is used as it is:
 * it is not pinned twice, and its key changes are accepted on the component that pinned it.
 */
import * as pulumi from "@pulumi/pulumi";
import type { types as commandTypes } from "@pulumi/command";
import type { SshConnection, SwarmHost } from "../hosts/types";
import { fail } from "../validation";
import { HostKeyPin, isPinned, pinnedHost, pinnedKey } from "./hostKeyPin";

/** Host key pinning: the same arguments on the SwarmCluster and every delivery-platform component. */
export interface HostKeyOptions {
  /**
   * SSH host keys: "pin" keeps one per host in state (the host's `connection.hostKey` when given,
   * else the key the host presents on first contact), and one per distinct bastion
   * (`connection.proxy`, its `hostKey` when given, else learned the same way), and checks them on
   * every preview, up and refresh: a changed key stops the run before anything runs on (or
   * through) that host, with an error naming both fingerprints. Every connection the component
   * uses then carries the pinned keys. "off": no pins (connections check a host key only where
   * one is given). Hosts that come pinned (`SwarmCluster.hosts`, `SwarmCluster.managerHost`) keep
   * the pin of the component they come from either way. Default: "pin".
   */
  hostKeys?: "pin" | "off";
  /**
   * Host key changes accepted on purpose, by host name, or "bastion:<address>" (":<port>" added
   * when it is not 22) for a bastion: the new key's fingerprint as the refusal printed it
   * (`{ "node-1": "SHA256:..." }`), e.g. after a host was rebuilt. On a host met for the first
   * time it is the fingerprint expected (checked out of band). Ignored for hosts whose host key is
   * given (change that instead). Default: none.
   */
  acceptHostKeys?: Record<string, string>;
}

/** The component that pins: its type name (shown in errors), its name (prefix of the pins' names), and itself (their parent). */
export interface PinOwner {
  component: string;
  name: string;
  parent: pulumi.Resource;
}

type Proxy = NonNullable<SshConnection["proxy"]>;
type ProxyArgs = commandTypes.input.remote.ProxyConnectionArgs;

/** How `acceptHostKeys` and the errors name a bastion: "bastion:<address>", ":<port>" added when not 22. */
export function bastionLabel(address: string, port: number | undefined): string {
  return port === undefined || port === 22 ? `bastion:${address}` : `bastion:${address}:${port}`;
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** A host key fingerprint as the refusal prints it and `acceptHostKeys` takes it ("SHA256:" + 43 characters). */
export function requireHostKeyFingerprint(argument: string, value: unknown): void {
  if (typeof value !== "string" || !FINGERPRINT.test(value))
    fail(
      argument,
      value,
      'Use the SHA-256 fingerprint the refusal printed, e.g. "SHA256:" followed by 43 characters (ssh-keygen -lf <key>.pub).',
    );
}

/** Object identities for bastions whose address is an Output (same Output, same bastion). */
const objectIds = new WeakMap<object, number>();
let nextId = 0;
function idOf(o: object): number {
  let id = objectIds.get(o);
  if (id === undefined) {
    id = nextId++;
    objectIds.set(o, id);
  }
  return id;
}

/**
 * What tells bastions apart at construction: the address and port when they are known (then also
 * the label), else the Output holding the address (hosts of one cloud group or one existingHosts
 * call share it) or the whole proxy.
 */
function bastionIdentity(proxy: Proxy): { key: string; address?: string; port?: number } {
  if (pulumi.Output.isInstance(proxy)) return { key: `output#${idOf(proxy)}` };
  const p = proxy as ProxyArgs;
  const port = typeof p.port === "number" ? p.port : p.port === undefined ? 22 : undefined;
  if (typeof p.host === "string" && port !== undefined)
    return { key: bastionLabel(p.host, port), address: p.host, port };
  const holder = typeof p.host === "object" && p.host !== null ? (p.host as object) : (p as object);
  return { key: `output#${idOf(holder)}:${port ?? `output#${idOf(p)}`}` };
}

/** A bastion's label once its address resolves (it is public: unsecret, though the proxy holds a key). */
function resolvedLabel(proxy: Proxy): pulumi.Output<string> {
  return pulumi.unsecret(pulumi.output(proxy).apply((p) => bastionLabel(p.host, p.port)));
}

/** The proxy with the bastion's pinned key (a given plain key stays as it is, like a host's). */
function pinnedProxy(proxy: Proxy, pin: HostKeyPin): Proxy {
  if (!pulumi.Output.isInstance(proxy)) {
    const p = proxy as ProxyArgs;
    if (typeof p.hostKey === "string" && p.hostKey !== "") return proxy;
    return { ...p, hostKey: pinnedKey(p.hostKey, pin) };
  }
  return pulumi
    .all([proxy, pin.hostKey])
    .apply(([p, learned]) => (p.hostKey ? p : { ...p, hostKey: learned })) as Proxy;
}

/** A piece of a resource name from an address: letters, digits, '.', '-' and '_' only. */
const namePart = (text: string) => text.replace(/[^A-Za-z0-9._-]/g, "-");

/**
 * `hostKeys` and `acceptHostKeys` against the hosts the component reaches: known words, names of
 * its hosts (or bastions), SHA-256 fingerprints. `noun` names the component in the fix ("cluster",
 * "ComposeHost"). Throws a ValidationError.
 */
export function validateHostKeyArgs(options: HostKeyOptions, hosts: SwarmHost[], noun: string): void {
  if (options.hostKeys !== undefined && options.hostKeys !== "pin" && options.hostKeys !== "off")
    fail("hostKeys", options.hostKeys, 'Use "pin" (default) or "off".');
  const accept = options.acceptHostKeys;
  if (accept === undefined) return;
  if (accept === null || typeof accept !== "object" || Array.isArray(accept))
    fail("acceptHostKeys", accept, 'Use { "<host name>": "SHA256:..." }.');
  const own = hosts.filter((h) => !isPinned(h));
  const names = [...new Set(own.map((h) => h.name))];
  const pinnedElsewhere = new Set(hosts.filter(isPinned).map((h) => h.name));
  const bastions = new Set<string>();
  let unknownBastion = false;
  for (const host of own) {
    const proxy = host.connection?.proxy;
    if (proxy === undefined) continue;
    const id = bastionIdentity(proxy);
    if (id.address !== undefined) bastions.add(bastionLabel(id.address, id.port));
    else unknownBastion = true;
  }
  for (const [host, fingerprint] of Object.entries(accept)) {
    const at = `acceptHostKeys["${host}"]`;
    const own = names.includes(host) || bastions.has(host) || (unknownBastion && host.startsWith("bastion:"));
    if (!own && pinnedElsewhere.has(host))
      fail(
        at,
        host,
        `Host "${host}" comes pinned (from SwarmCluster.hosts or .managerHost): accept its new key with acceptHostKeys on the component that pinned it.`,
      );
    if (!own)
      fail(
        at,
        host,
        names.length + bastions.size === 0
          ? `This ${noun} pins no host of its own (its hosts come pinned): remove acceptHostKeys.`
          : `Use the name of one of this ${noun}'s hosts: ${[...names, ...bastions].join(", ")}.`,
      );
    requireHostKeyFingerprint(at, fingerprint);
  }
  if (options.hostKeys === "off")
    fail(
      "acceptHostKeys",
      accept,
      'Host keys are not pinned with hostKeys: "off"; remove acceptHostKeys or pin.',
    );
}

/**
 * The hosts with their keys pinned (same order): one pin per host not pinned yet (a name listed
 * twice is pinned once), one per distinct bastion; with `hostKeys: "off"`, the hosts as given.
 * Call it in the component's constructor after `super`, and reach the hosts only through the
 * returned connections and `dependsOn`.
 */
export function pinHostKeys(owner: PinOwner, hosts: SwarmHost[], options: HostKeyOptions): SwarmHost[] {
  if ((options.hostKeys ?? "pin") === "off") return hosts;
  const accept = options.acceptHostKeys ?? {};
  const opts = { parent: owner.parent };
  const bastions = new Map<string, HostKeyPin>();
  const byName = new Map<string, SwarmHost>();

  const bastionPin = (proxy: Proxy, firstHost: string): HostKeyPin => {
    const id = bastionIdentity(proxy);
    const known = bastions.get(id.key);
    if (known) return known;
    const label = id.address !== undefined ? bastionLabel(id.address, id.port) : resolvedLabel(proxy);
    const pin = new HostKeyPin(
      id.address !== undefined
        ? `${owner.name}-bastion.${namePart(id.address)}${id.port === 22 ? "" : `-${id.port}`}-host-key`
        : `${owner.name}-bastion.of.${firstHost}-host-key`,
      {
        component: owner.component,
        owner: owner.name,
        host: label,
        connection: proxy as pulumi.Input<SshConnection>,
        accept: typeof label === "string" ? (accept[label] ?? "") : label.apply((l) => accept[l] ?? ""),
      },
      opts,
    );
    bastions.set(id.key, pin);
    return pin;
  };

  return hosts.map((host) => {
    if (isPinned(host)) return host;
    const done = byName.get(host.name);
    if (done) return done;
    const proxy = host.connection.proxy;
    const bastion = proxy !== undefined ? bastionPin(proxy, host.name) : undefined;
    const reached: SwarmHost =
      proxy !== undefined && bastion !== undefined
        ? {
            ...host,
            connection: { ...host.connection, proxy: pinnedProxy(proxy, bastion) },
            dependsOn: [...(host.dependsOn ?? []), bastion],
          }
        : host;
    const pin = new HostKeyPin(
      `${owner.name}-${host.name}-host-key`,
      {
        component: owner.component,
        owner: owner.name,
        host: host.name,
        connection: reached.connection,
        ...(accept[host.name] !== undefined ? { accept: accept[host.name] } : {}),
      },
      { ...opts, dependsOn: reached.dependsOn ?? [] },
    );
    const pinned = pinnedHost(reached, pin);
    byName.set(host.name, pinned);
    return pinned;
  });
}
