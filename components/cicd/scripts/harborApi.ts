import { fail } from "../../validation";
import { prelude, receiveBundleSnippet, shq } from "../../shell";
import { apiCallSnippet } from "./apiCall";

/*
 * The registry side of the pipeline, through Harbor's v2.0 REST API (basic auth as admin):
 * - HEAD /api/v2.0/projects?project_name=<name>: 200 exists, 404 not;
 * - POST /api/v2.0/projects {"project_name", "metadata": {"public": "false"}}: 201 (409 = exists);
 * - GET /api/v2.0/robots?q=name%3D<project>%2B<robot>: project robots are stored as "<project>+<name>";
 * - POST /api/v2.0/robots {"name", "level": "project", "duration": -1, "secret", "permissions":
 *   [{"kind": "project", "namespace": <project>, "access": [{"resource": "repository", "action": ...}]}]}:
 *   201 with the robot's full name ("robot$<project>+<name>");
 * - PATCH /api/v2.0/robots/<id> {"secret"}: sets the secret of a robot that already exists.
 * The robots' secrets are made by Pulumi (so they can be outputs); a second run creates nothing.
 */

/** A robot account of the project. */
export interface HarborRobot {
  /** Short name (the robot is "robot$<project>+<name>"). */
  name: string;
  /** Repository actions it gets: push implies pull. */
  access: "push" | "pull";
  /** What it is for (Harbor's description). */
  description: string;
}

/** Harbor project names: lower case letters, digits and ._- , starting with a letter or digit, 1-255. */
export function requireHarborProjectName(argument: string, value: string): void {
  if (typeof value !== "string" || !/^[a-z0-9][a-z0-9._-]{0,254}$/.test(value)) {
    fail(
      argument,
      value,
      'Use a Harbor project name: lower-case letters, digits, ".", "_", "-", e.g. "team".',
    );
  }
}

/** Robot short names: lower case letters, digits, '-', '_' (they end up in docker login user names). */
export function requireRobotName(argument: string, value: string): void {
  if (typeof value !== "string" || !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(value)) {
    fail(argument, value, 'Use lower-case letters, digits, "-" or "_", e.g. "jenkins".');
  }
}

/** The JSON body that creates `robot` in `project` with `secret`. */
export function harborRobotBody(project: string, robot: HarborRobot, secret: string): string {
  const actions = robot.access === "push" ? ["push", "pull"] : ["pull"];
  return JSON.stringify({
    name: robot.name,
    description: robot.description,
    level: "project",
    duration: -1,
    disable: false,
    secret,
    permissions: [
      {
        kind: "project",
        namespace: project,
        access: actions.map((action) => ({ resource: "repository", action })),
      },
    ],
  });
}

/** The curl config of the admin's basic auth (read with `-K`; the password never reaches argv). */
export function harborAuthConfig(user: string, password: string): string {
  if (/["\\\n]/.test(user + password))
    throw new Error("Harbor credentials contain a quote, backslash or newline");
  return `user = "${user}:${password}"\n`;
}

/** Inputs of {@link renderHarborProjectScript}. */
export interface HarborProjectScriptOptions {
  /** Host name, shown in every message. */
  hostName: string;
  /** Harbor's base URL as the script reaches it, e.g. "https://127.0.0.1:443". */
  apiBase: string;
  /** Skip TLS verification (only for the Harbor host's own loopback). */
  insecure: boolean;
  /** The project. */
  project: string;
  /** Make the project public (anonymous pull). */
  public: boolean;
  /** Its robot accounts. */
  robots: HarborRobot[];
}

/**
 * Renders the script that makes the project and its robots exist. Standard input: a bundle of
 * `admin.conf` (see {@link harborAuthConfig}), and per robot `robot.<name>.json` (the create body,
 * {@link harborRobotBody}) and `secret.<name>.json` (`{"secret": ...}`). Prints one line per robot,
 * `robot <name> <full name>` (no secret), for the component's outputs.
 */
export function renderHarborProjectScript(options: HarborProjectScriptOptions): string {
  requireHarborProjectName("project", options.project);
  options.robots.forEach((r, i) => requireRobotName(`robots[${i}].name`, r.name));
  const files = [
    "admin.conf",
    ...options.robots.flatMap((r) => [`robot.${r.name}.json`, `secret.${r.name}.json`]),
  ];
  const project = options.project;
  return `${prelude({ host: options.hostName, task: `setting up Harbor project ${project}` })}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
${receiveBundleSnippet("work", files)}
${apiCallSnippet(options.apiBase, "admin.conf", options.insecure)}
project=${shq(project)}
code=$(call HEAD "/api/v2.0/projects?project_name=$project")
expect_status "checking project $project" "$code" 200 404
if [ "$code" = 404 ]; then
  printf '{"project_name":"%s","metadata":{"public":"%s"}}' "$project" ${shq(String(options.public))} >"$work/project.json"
  code=$(call POST /api/v2.0/projects "$work/project.json")
  expect_status "creating project $project" "$code" 201 409
  log "project $project created"
else
  log "project $project exists"
fi
robots=(${options.robots.map((r) => shq(r.name)).join(" ")})
for robot in "\${robots[@]}"; do
  code=$(call GET "/api/v2.0/robots?q=name%3D$project%2B$robot&page_size=100")
  expect_status "looking up robot $robot" "$code" 200
  robot_id=$(grep -o '"id": *[0-9]*' "$work/response" | head -n 1 | grep -o '[0-9]*$' || true)
  full_name=$(grep -o '"name": *"[^"]*"' "$work/response" | head -n 1 | sed 's/^"name": *"//; s/"$//' || true)
  if [ -z "$robot_id" ]; then
    code=$(call POST /api/v2.0/robots "$work/robot.$robot.json")
    expect_status "creating robot $robot" "$code" 201
    full_name=$(grep -o '"name": *"[^"]*"' "$work/response" | head -n 1 | sed 's/^"name": *"//; s/"$//' || true)
    log "robot $robot created"
  else
    code=$(call PATCH "/api/v2.0/robots/$robot_id" "$work/secret.$robot.json")
    expect_status "setting the secret of robot $robot" "$code" 200
    log "robot $robot exists; its secret is the one Pulumi holds"
  fi
  : >"$work/response"
  [ -n "$full_name" ] || fail "Harbor did not tell the name of robot $robot"
  printf 'robot %s %s\\n' "$robot" "$full_name"
done
`;
}

/** Parses the script's `robot <name> <full name>` lines. */
export function parseHarborRobots(stdout: string): Record<string, string> {
  const robots: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const match = /^robot (\S+) (\S+)$/.exec(line.trim());
    if (match) robots[match[1]] = match[2];
  }
  return robots;
}
