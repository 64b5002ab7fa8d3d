import { fail } from "../../validation";
import { renderEnvFile, shq as shellQuote } from "../../shell";
import { requireSwarmName } from "../parse";

/*
 * Shell run on a swarm manager for SwarmJob. Pure renderers: unit-tested as text and executed byte
 * for byte on lab hosts. POSIX sh. Nothing secret is part of these strings: the job's environment
 * arrives on stdin (see jobStdin) and reaches only the `docker service create` that copies it into
 * the job's spec.
 */

/** What `docker service create` gets for a job. Every value is plain text by now. */
export interface JobScriptOptions {
  /** The job's service name (a swarm name). */
  jobName: string;
  /** "replicated-job" (runs `completions` tasks to completion) or "global-job" (one task per eligible node). */
  mode: "replicated-job" | "global-job";
  /** Image reference. */
  image: string;
  /** Entrypoint override (exec form); its first word becomes `--entrypoint`, the rest lead the arguments. */
  command?: string[];
  /** Arguments (the container's CMD). */
  args?: string[];
  /** replicated-job only: successful tasks needed (`--replicas`). */
  completions?: number;
  /** replicated-job only: tasks at once (`--max-concurrent`). */
  maxConcurrent?: number;
  /** Overlay network names or ids (`--network`). */
  networks?: string[];
  /** Secrets as `{ source: <swarm secret name>, target: <file name> }`. */
  secrets?: { source: string; target: string }[];
  /** Configs as `{ source: <swarm config name>, target: <absolute path> }`. */
  configs?: { source: string; target: string }[];
  /** Placement constraints (`--constraint`). */
  constraints?: string[];
  /** Names of the environment variables the job gets (values arrive on stdin). */
  envNames?: string[];
  /** Seconds to wait for the job to finish before failing and removing it. */
  timeoutSeconds: number;
}

/** The deploy script's stdin: one base64 line, the environment file (`export NAME='value'`). */
export function jobStdin(env: Record<string, string>): string {
  return `${Buffer.from(renderEnvFile(env, "shell"), "utf8").toString("base64")}\n`;
}

function requireWords(argument: string, words: string[] | undefined): void {
  (words ?? []).forEach((w, i) => {
    if (typeof w !== "string") fail(`${argument}[${i}]`, w, "Give strings.");
  });
}

/**
 * Runs a swarm job once and waits for it: removes the job's earlier finished service (a job name
 * cannot be reused while listed), creates the job, then polls its tasks until every one completed
 * (exit 0), any one failed (exit 1 with the task's error and the job's log tail; the job is removed),
 * or the timeout passes (the job is removed, exit 1). On success the job's output is printed and the finished job
 * stays listed until the next run or `delete`.
 */
export function renderJobRunScript(o: JobScriptOptions): string {
  requireSwarmName("jobName", o.jobName);
  if (!Number.isInteger(o.timeoutSeconds) || o.timeoutSeconds < 1 || o.timeoutSeconds > 86_400)
    fail("timeoutSeconds", o.timeoutSeconds, "Give whole seconds from 1 to 86400.");
  requireWords("command", o.command);
  requireWords("args", o.args);
  const entry = o.command ?? [];
  if (entry.length > 0 && (entry[0] === "" || /\s/.test(entry[0])))
    fail("command[0]", entry[0], "The program to run, without spaces (its arguments go in the next items).");
  const flags: string[] = ["--detach", "--quiet", "--name", shellQuote(o.jobName), "--mode", o.mode];
  flags.push("--restart-condition", "none");
  if (o.mode === "replicated-job") {
    if (o.completions !== undefined) flags.push("--replicas", String(o.completions));
    if (o.maxConcurrent !== undefined) flags.push("--max-concurrent", String(o.maxConcurrent));
  }
  for (const n of o.networks ?? []) flags.push("--network", shellQuote(n));
  for (const s of o.secrets ?? [])
    flags.push("--secret", shellQuote(`source=${s.source},target=${s.target}`));
  for (const c of o.configs ?? [])
    flags.push("--config", shellQuote(`source=${c.source},target=${c.target}`));
  for (const c of o.constraints ?? []) flags.push("--constraint", shellQuote(c));
  for (const e of [...(o.envNames ?? [])].sort()) flags.push("--env", e);
  flags.push("--label", "pulumi-swarm.job=true");
  if (entry.length > 0) flags.push("--entrypoint", shellQuote(entry[0]));
  const words = [...entry.slice(1), ...(o.args ?? [])].map(shellQuote);
  const job = shellQuote(o.jobName);
  return [
    "set -eu",
    "umask 077",
    `job=${job}`,
    `timeout=${o.timeoutSeconds}`,
    'workdir=$(mktemp -d "${TMPDIR:-/tmp}/swarm-job.XXXXXXXX")',
    "trap 'rm -rf \"$workdir\"' EXIT",
    "trap 'exit 1' HUP INT TERM",
    "env_b64=''",
    "IFS= read -r env_b64 || true",
    `printf '%s' "$env_b64" | base64 -d > "$workdir/job.env"`,
    `if [ "$(docker info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" != "true" ]; then`,
    '  echo "swarm-job: this host is not a swarm manager (or docker is not reachable for this user)" >&2',
    "  exit 3",
    "fi",
    "# A job's name cannot be reused while the finished job is listed: remove the earlier run first.",
    'if docker service inspect "$job" >/dev/null 2>&1; then',
    '  docker service rm "$job" >/dev/null',
    "  i=0",
    '  while docker service inspect "$job" >/dev/null 2>&1; do',
    "    i=$((i + 1))",
    '    if [ "$i" -ge 60 ]; then echo "swarm-job: the earlier run of $job is still listed after 60 s" >&2; exit 1; fi',
    "    sleep 1",
    "  done",
    "fi",
    "# shellcheck disable=SC2016 # the job's arguments are literal words, expanded (if at all) in the task",
    `set -- ${flags.join(" ")} ${shellQuote(o.image)}${words.length ? ` ${words.join(" ")}` : ""}`,
    "# The environment reaches only this docker command (--env NAME copies the value from it).",
    "# shellcheck source=/dev/null",
    '( . "$workdir/job.env"; exec docker service create "$@" ) >/dev/null',
    "started=$(date +%s)",
    "while :; do",
    '  tasks=$(docker service ps -q --no-trunc "$job" 2>/dev/null || true)',
    "  failed=''",
    '  if [ -n "$tasks" ]; then',
    "    # shellcheck disable=SC2086",
    `    failed=$(docker inspect --format '{{.Status.State}}|{{.ID}}|{{.NodeID}}|{{.Status.Err}}|{{if .Status.ContainerStatus}}{{.Status.ContainerStatus.ExitCode}}{{end}}' $tasks | grep -E '^(failed|rejected)[|]' | head -n 1 || true)`,
    "  fi",
    '  if [ -n "$failed" ]; then',
    `    IFS='|' read -r state task node err code <<EOF`,
    "$failed",
    "EOF",
    `    host=$(docker node inspect --format '{{.Description.Hostname}}' "$node" 2>/dev/null || echo "$node")`,
    '    echo "swarm-job: job $job failed: task $task on $host is $state: $err${code:+ (exit code $code)}" >&2',
    "    # The failed task's last lines reach the service log a moment later (seen: the error line missing).",
    "    sleep 3",
    '    echo "swarm-job: last lines of the job\'s output:" >&2',
    '    docker service logs --raw --no-task-ids --tail 40 "$job" >&2 2>&1 || true',
    "    # A failed create leaves no resource in the state to delete it later: remove the job now, or",
    "    # it keeps its secrets, configs and networks in use and `destroy` cannot remove them.",
    '    docker service rm "$job" >/dev/null 2>&1 || true',
    "    exit 1",
    "  fi",
    '  # Replicas of a job read "<running>/<desired> (<completed>/<total> completed)".',
    `  progress=$(docker service ls --filter "name=$job" --format '{{.Name}} {{.Replicas}}' | awk -v j="$job" '$1 == j { print $3 }' | tr -d '(')`,
    "  completed=${progress%%/*}",
    "  total=${progress#*/}",
    '  if [ -n "$progress" ] && [ "$total" -gt 0 ] 2>/dev/null && [ "$completed" = "$total" ]; then break; fi',
    '  if [ $(($(date +%s) - started)) -ge "$timeout" ]; then',
    '    echo "swarm-job: job $job did not finish within $timeout s (progress ${progress:-none}); removing it" >&2',
    '    docker service ps --no-trunc "$job" >&2 || true',
    '    docker service rm "$job" >/dev/null 2>&1 || true',
    "    exit 1",
    "  fi",
    "  sleep 1",
    "done",
    'echo "swarm-job: job $job completed ($progress tasks)" >&2',
    'docker service logs --raw --no-task-ids "$job" 2>&1 || true',
    "",
  ].join("\n");
}

/** Removes the job's service if it is listed (idempotent). */
export function renderJobRemoveScript(jobName: string): string {
  requireSwarmName("jobName", jobName);
  return [
    "set -eu",
    `job=${shellQuote(jobName)}`,
    'if docker service inspect "$job" >/dev/null 2>&1; then docker service rm "$job" >/dev/null; fi',
    "",
  ].join("\n");
}
