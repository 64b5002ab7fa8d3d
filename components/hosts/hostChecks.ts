import { InputCheck, fail, isHostAddress, isIpv4 } from "../validation";

/*
 * The checks of values that reach an SSH connection, a host script or a firewall rule, each one
 * rule and one message, used through `checkedInput` so a value given as an Output is held to the
 * same rule when it resolves.
 */

/** An address SSH can dial: an IPv4 address or a DNS name. */
export function requireSshAddress(argument: string, value: string): void {
  if (typeof value !== "string" || !isHostAddress(value)) {
    fail(argument, value, "Use an IPv4 address or a DNS name that SSH can dial.");
  }
}

/** A bastion's address: an IPv4 address or a DNS name. */
export function requireBastionAddress(argument: string, value: string): void {
  if (typeof value !== "string" || !isHostAddress(value)) {
    fail(argument, value, "Use an IPv4 address or a DNS name for the bastion.");
  }
}

/** The address other swarm nodes reach a server on (it becomes a word of the swarm scripts). */
export function requireAdvertiseAddress(argument: string, value: string): void {
  if (typeof value !== "string" || !isHostAddress(value)) {
    fail(argument, value, "Use the IPv4 address the other swarm nodes reach this server on.");
  }
}

/** A member's public IPv4 address, for a cloud firewall's /32 rule. */
export function requirePeerAddress(argument: string, value: string): void {
  if (typeof value !== "string" || !isIpv4(value)) {
    fail(argument, value, "Cloud firewalls need the member's public IPv4 address; set advertiseAddr to it.");
  }
}

const HOST_KEY =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( \S.*)?$/;

/** An SSH host public key line, as SSH pins it ("ssh-ed25519 AAAA..."). */
export function requireHostKey(argument: string, value: string): void {
  if (typeof value !== "string" || !HOST_KEY.test(value.trim())) {
    fail(
      argument,
      value,
      'Use the server\'s SSH host public key line, e.g. "ssh-ed25519 AAAA..." (its /etc/ssh/ssh_host_ed25519_key.pub).',
    );
  }
}

/** A check that a private key is not empty, failing with `fix`. The key never appears in the message. */
export function nonEmptyKey(fix: string): InputCheck<string> {
  return (argument, value) => {
    if (typeof value !== "string" || value.trim() === "") fail(argument, "(empty)", fix);
  };
}
