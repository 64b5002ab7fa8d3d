import { composePublishedPorts, requireComposePorts } from "../../components/workloads/composePorts";

const compose = (ports: string) => `services:\n  web:\n    image: nginx:1.27\n    ports:\n${ports}`;
const published = (ports: string, env: Record<string, string> = {}) =>
  composePublishedPorts("composeContent", compose(ports), env).map((p) => [p.where, p.from, p.to]);

describe("a compose file's published ports (ComposeStack)", () => {
  it("reads short and long syntax, host IPs, protocols and ranges; target-only entries publish nothing", () => {
    expect(
      published(
        [
          '      - "80"',
          "      - 81",
          '      - "8080:80"',
          '      - "127.0.0.1:8081:80"',
          '      - "127.0.0.1::82"',
          '      - "[::1]:8082:80/udp"',
          '      - "9000-9002:9000-9002"',
          "      - target: 80\n        published: 8443\n        mode: host",
          '      - target: 80\n        published: "9100-9101"',
          "      - target: 83",
        ].join("\n") + "\n",
      ),
    ).toEqual([
      ["composeContent services.web.ports[2]", 8080, 8080],
      ["composeContent services.web.ports[3]", 8081, 8081],
      ["composeContent services.web.ports[5]", 8082, 8082],
      ["composeContent services.web.ports[6]", 9000, 9002],
      ["composeContent services.web.ports[7]", 8443, 8443],
      ["composeContent services.web.ports[8]", 9100, 9101],
    ]);
  });

  it("fills in ${VAR}, ${VAR:-default} and $VAR from the environment, as docker stack deploy does", () => {
    expect(
      published('      - "${WEB}:80"\n      - "${API:-9090}:80"\n      - "$ADMIN:80"\n', {
        WEB: "8088",
        ADMIN: "7070",
      }),
    ).toEqual([
      ["composeContent services.web.ports[0]", 8088, 8088],
      ["composeContent services.web.ports[1]", 9090, 9090],
      ["composeContent services.web.ports[2]", 7070, 7070],
    ]);
  });

  it("accepts ports next to the reserved ones (a positive control for the refusals)", () => {
    expect(() =>
      requireComposePorts(
        "composeContent",
        compose('      - "2222:22"\n      - "2378-2380:80"\n      - "4790:4789/udp"\n'),
        {},
      ),
    ).not.toThrow();
  });

  it("refuses a reserved port, alone or inside a range, with SwarmService's message", () => {
    expect(() => requireComposePorts("composeContent", compose('      - "2370-2380:80"\n'), {})).toThrow(
      "composeContent services.web.ports[0].published: received 2375. Port 2375 is the Docker Engine API on every node; publishing it through the routing mesh would open it on all of them. Pick another port (e.g. above 1024).",
    );
    expect(() =>
      requireComposePorts("composeContent", compose('      - "4800:4800/udp"\n'), {}, 4800),
    ).toThrow("Port 4800 is the swarm's VXLAN data path on every node");
  });

  it("refuses a published value that is not a port, and a file that is not YAML", () => {
    expect(() => requireComposePorts("composeContent", compose('      - "http:80"\n'), {})).toThrow(
      'composeContent services.web.ports[0]: received "http". Use a published port 1-65535 or a range such as 8080-8081.',
    );
    expect(() => requireComposePorts("composeFile", "services: [\n", {})).toThrow(
      'composeFile: received "content that is not YAML". Fix the compose file:',
    );
  });
});
