import { execFileSync } from "child_process";
import * as fc from "fast-check";
import { asRemoteCommand, shq } from "../../components/shell";
import { renderPrepareScript } from "../../components/cluster/scripts/prepare";
import { renderInitScript } from "../../components/cluster/scripts/init";
import { renderJoinScript, renderLeaveScript } from "../../components/cluster/scripts/join";
import {
  renderDeregisterScript,
  renderNodeDrainScript,
  renderNodeSettingsScript,
} from "../../components/cluster/scripts/node";
import { normalizeCertExpiry } from "../../components/cluster/validate";

const bashSyntaxOk = (script: string) =>
  execFileSync("bash", ["-n"], { input: script, stdio: ["pipe", "pipe", "pipe"] });

const scripts: Record<string, string> = {
  prepare: renderPrepareScript({
    installDocker: true,
    daemonConfig: { "insecure-registries": ["r:5000"], "registry-mirrors": [] },
    hostFirewall: "auto",
    peers: ["10.0.0.2", "10.0.0.3"],
    dataPathPort: 4789,
    allowEsp: true,
  }),
  prepareNothing: renderPrepareScript({
    installDocker: false,
    daemonConfig: {},
    hostFirewall: "none",
    peers: [],
    dataPathPort: 4789,
    allowEsp: false,
  }),
  init: renderInitScript({
    advertiseAddr: "10.0.0.1",
    otherManagers: ["10.0.0.2"],
    dataPathPort: 4789,
    defaultAddrPool: [],
    certExpiry: "2160h0m0s",
    autolock: false,
  }),
  join: renderJoinScript({ cluster: "prod", claim: "abc" }),
  leave: renderLeaveScript({ cluster: "prod", claim: "abc" }),
  settings: renderNodeSettingsScript({
    nodeId: "n1",
    role: "worker",
    labels: { a: "1", "b.c": "x=y" },
    availability: "pause",
    claim: "abc",
  }),
  drain: renderNodeDrainScript({ nodeId: "n1", claim: "abc" }),
  deregister: renderDeregisterScript({ advertiseAddr: "10.0.0.4", claim: "abc" }),
};

describe("cluster host scripts", () => {
  it.each(Object.keys(scripts))("%s is valid bash, strict, and wrapped for any login shell", (key) => {
    const script = scripts[key];
    expect(script.startsWith("set -euo pipefail\n")).toBe(true);
    bashSyntaxOk(script);
    const command = asRemoteCommand(script);
    expect(command.startsWith("PULUMI_SWARM_SCRIPT='exec 3<&0\nset -euo pipefail\n")).toBe(true);
    bashSyntaxOk(command);
    execFileSync("dash", ["-n"], { input: command });
  });

  it("runs the wrapped script with its own stdin on fd 3 (secrets never on the command line)", () => {
    const command = asRemoteCommand('IFS= read -r first <&3; IFS= read -r second <&3; echo "$second|$first"');
    const out = execFileSync("sh", ["-c", command], { input: "token-1\nkey-2\n" }).toString();
    expect(out).toBe("key-2|token-1\n");
  });

  it("quotes any value into one shell word (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }).filter((s) => !s.includes("\0")),
        (value) => {
          const out = execFileSync("bash", ["-c", `printf '%s' ${shq(value)}`]).toString();
          expect(out).toBe(value);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("reads join secrets from fd 3 and talks to the Engine API, never passing a token as an argument", () => {
    expect(scripts.join).toContain("IFS= read -r join_body <&3");
    expect(scripts.join).toContain("printf '%s' \"$join_body\" | api POST /swarm/join");
    // `docker swarm` appears only in advice to the user, never as a command given a token.
    expect(scripts.join.match(/docker swarm \w+/g)).toEqual(["docker swarm unlock", "docker swarm leave"]);
    expect(scripts.join).toContain('printf \'{"UnlockKey":"%s"}\' "$unlock_key" | api POST /swarm/unlock');
  });

  it("leaves alone a node claimed by a newer resource", () => {
    expect(scripts.leave).toContain(`if [ "$claim_now" != 'abc' ]; then`);
    expect(scripts.drain).toContain(
      `if [ "$claim_now" != 'abc' ]; then log "node $NODE is owned by a newer resource`,
    );
  });

  it("manages labels by key, including values with '='", () => {
    expect(scripts.settings).toContain("DESIRED=('a=1' 'b.c=x=y')");
    expect(scripts.settings).toContain("MANAGED='a,b.c'");
  });

  it("opens firewall ports only to the peers, with ESP when asked", () => {
    expect(scripts.prepare).toContain("PEERS=('10.0.0.2' '10.0.0.3')");
    expect(scripts.prepare).toContain("ALLOW_ESP=1");
    // Exactly the swarm ports: the Docker API (2375/2376) is not among them.
    expect(scripts.prepare).toContain("SWARM_PORTS=('2377/tcp' '7946/tcp' '7946/udp' '4789/udp')\n");
    expect(scripts.prepareNothing).toContain(": # host firewall left as it is");
    expect(scripts.prepareNothing).toContain("Docker is not installed and installDocker is false");
  });

  it.each([
    ["2160h", "2160h0m0s"],
    ["90d", "2160h0m0s"],
    ["1h30m", "1h30m0s"],
    ["3600s", "1h0m0s"],
  ])("normalises cert expiry %s to Go's %s", (input, expected) => {
    expect(normalizeCertExpiry("certExpiry", input)).toBe(expected);
  });
});
