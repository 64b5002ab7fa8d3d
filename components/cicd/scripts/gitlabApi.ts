import { fail } from "../../validation";
import { prelude, receiveBundleSnippet, shq } from "../../shell";
import { apiCallSnippet } from "./apiCall";

/*
 * The source side of the pipeline, through GitLab's REST API v4 (PRIVATE-TOKEN header):
 * - GET /api/v4/projects/<url-encoded path>/hooks?per_page=100: the project's hooks;
 * - POST /api/v4/projects/<id>/hooks {"url", "push_events": true, "token", ...}: 201;
 * - PUT /api/v4/projects/<id>/hooks/<hook id> (same body): 200, for a hook that already has the URL.
 * A hook is found by its URL, so a second run creates nothing (it only sets the same settings again;
 * GitLab never returns the token, so it cannot be compared).
 */

/** One webhook as the script takes it (the token travels in the body file, on stdin). */
export interface GitLabHook {
  /** Project path ("group/name") or numeric id. */
  project: string;
  /** URL GitLab posts to, e.g. "http://10.0.1.11:8080/project/web". */
  url: string;
  /** Branch filter of push events (GitLab's `push_events_branch_filter`). Default: all branches. */
  branch?: string;
}

/** GitLab project paths: "group/name" (nested groups too) or a numeric id. */
export function requireGitLabProject(argument: string, value: string): void {
  if (
    typeof value !== "string" ||
    !(/^[0-9]+$/.test(value) || /^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$/.test(value))
  ) {
    fail(argument, value, 'Use the project\'s path ("group/name") or its numeric id.');
  }
}

/** Webhook URLs: http(s), no spaces, quotes or credentials. */
export function requireHookUrl(argument: string, value: string): void {
  if (
    typeof value !== "string" ||
    !/^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~/%-]*)?$/.test(value)
  ) {
    fail(
      argument,
      value,
      'Use an http(s) URL without credentials or query, e.g. "http://10.0.1.11:8080/project/web".',
    );
  }
}

/** The JSON body of the hook (create and update). */
export function gitlabHookBody(hook: GitLabHook, token: string): string {
  return JSON.stringify({
    url: hook.url,
    push_events: true,
    ...(hook.branch ? { push_events_branch_filter: hook.branch } : {}),
    merge_requests_events: false,
    tag_push_events: false,
    enable_ssl_verification: hook.url.startsWith("https://"),
    token,
  });
}

/** The curl config with the API token header (read with `-K`; the token never reaches argv). */
export function gitlabAuthConfig(token: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(token))
    throw new Error("the GitLab API token has characters outside A-Za-z0-9_.-");
  return `header = "PRIVATE-TOKEN: ${token}"\n`;
}

/** Inputs of {@link renderGitLabHooksScript}. */
export interface GitLabHooksScriptOptions {
  /** Host name, shown in every message. */
  hostName: string;
  /** GitLab's base URL as the script reaches it, e.g. "http://127.0.0.1:9999". */
  apiBase: string;
  /** The hooks. */
  hooks: GitLabHook[];
}

/**
 * Renders the script that makes each hook exist. Standard input: a bundle of `auth.conf`
 * ({@link gitlabAuthConfig}) and `hook.<n>.json` per hook ({@link gitlabHookBody}, n from 0).
 * Prints `hook <project> <hook id>` per hook.
 */
export function renderGitLabHooksScript(options: GitLabHooksScriptOptions): string {
  options.hooks.forEach((hook, i) => {
    requireGitLabProject(`hooks[${i}].project`, hook.project);
    requireHookUrl(`hooks[${i}].url`, hook.url);
  });
  const files = ["auth.conf", ...options.hooks.map((_, i) => `hook.${i}.json`)];
  return `${prelude({ host: options.hostName, task: "setting up GitLab webhooks" })}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
${receiveBundleSnippet("work", files)}
${apiCallSnippet(options.apiBase, "auth.conf", false)}
projects=(${options.hooks.map((h) => shq(encodeURIComponent(h.project))).join(" ")})
urls=(${options.hooks.map((h) => shq(h.url)).join(" ")})
for index in "\${!projects[@]}"; do
  project=\${projects[$index]}
  url=\${urls[$index]}
  code=$(call GET "/api/v4/projects/$project/hooks?per_page=100")
  [ "$code" != 404 ] || fail "project $project was not found (or the API token cannot see it)"
  expect_status "listing the hooks of project $project" "$code" 200
  # GitLab writes each hook as {"id":N,"url":"...",...}: one hook per line, then the one with this URL.
  hook_id=$(sed 's/{"id":/\\n{"id":/g' "$work/response" | grep -F "\\"url\\":\\"$url\\"" | head -n 1 | sed -n 's/^{"id":\\([0-9]*\\).*/\\1/p' || true)
  if [ -z "$hook_id" ]; then
    code=$(call POST "/api/v4/projects/$project/hooks" "$work/hook.$index.json")
    [ "$code" != 422 ] || fail "GitLab refused the webhook URL $url for project $project (HTTP 422: $(head -c 200 "$work/response" | tr -d '\\n')); a URL in a private network needs GitLab's admin setting allow_local_requests_from_web_hooks_and_services"
    expect_status "creating the webhook of project $project" "$code" 201
    hook_id=$(sed -n 's/^{"id":\\([0-9]*\\).*/\\1/p' "$work/response")
    log "webhook to $url created in project $project"
  else
    code=$(call PUT "/api/v4/projects/$project/hooks/$hook_id" "$work/hook.$index.json")
    expect_status "updating the webhook of project $project" "$code" 200
    log "webhook to $url exists in project $project (settings and token set again)"
  fi
  printf 'hook %s %s\\n' "$project" "\${hook_id:-unknown}"
done
`;
}
