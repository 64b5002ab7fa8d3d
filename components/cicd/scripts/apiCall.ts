import { shq } from "../../shell";

/**
 * Shell that defines `call METHOD PATH [BODY_FILE]` for a tool's REST API: curl with its
 * credentials read from a curl config file (`-K`, never argv), the response body in
 * "$work/response", the HTTP status on stdout ("000" when the server cannot be reached). Needs
 * `work` (a private directory) and the config at "$work/<authFile>". `insecure` adds `-k`: only for
 * the tool's own loopback, where there is no network path to intercept.
 */
export function apiCallSnippet(base: string, authFile: string, insecure: boolean): string {
  return `api_base=${shq(base)}
call() {
  local method=$1 path=$2 body=\${3:-} code
  local args=(-sS --max-time 30 -K "$work/${authFile}"${insecure ? " -k" : ""} -H 'Accept: application/json' -o "$work/response" -w '%{http_code}')
  # A HEAD answer has no body: --head tells curl not to wait for one (-X HEAD would).
  if [ "$method" = HEAD ]; then args+=(--head); else args+=(-X "$method"); fi
  if [ -n "$body" ]; then args+=(-H 'Content-Type: application/json' --data-binary "@$body"); fi
  : >"$work/response"
  code=$(curl "\${args[@]}" "$api_base$path" 2>"$work/curl.err") || code=000
  printf '%s' "\${code:-000}"
}
# expect_status WHAT CODE ALLOWED...: fails with a clear message unless CODE is one of ALLOWED.
expect_status() {
  local what=$1 code=$2 allowed
  shift 2
  for allowed in "$@"; do [ "$code" = "$allowed" ] && return 0; done
  case "$code" in
    000) fail "$what: could not reach $api_base ($(head -c 300 "$work/curl.err"))" ;;
    401) fail "$what: $api_base answered 401 Unauthorized: the credentials were refused" ;;
    403) fail "$what: $api_base answered 403 Forbidden: the account lacks the rights for this" ;;
    5??) fail "$what: $api_base answered HTTP $code (a server error; the tool's own logs say why)" ;;
    *) fail "$what: $api_base answered HTTP $code: $(head -c 300 "$work/response" | tr -d '\\n')" ;;
  esac
}`;
}
