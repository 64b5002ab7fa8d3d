/*
 * The one way files and secrets reach a host: on the command's standard input, as a bundle of
 * `<name> <base64 content>` lines. Base64 keeps any content (newlines, quotes, `$`, secrets) out of
 * the shell's parsing, and nothing secret is ever part of a command string or argv.
 */

/** One file carried to a host on a command's standard input. */
export interface BundleFile {
  /** File name inside the receiving directory (letters, digits, '.', '_', '-'). */
  name: string;
  /** Content, written byte for byte. */
  content: string;
}

import { shq } from "./quote";

const FILE_NAME = /^[A-Za-z0-9._-]+$/;

function requireFileName(name: string): void {
  if (!FILE_NAME.test(name) || name.startsWith(".")) {
    throw new Error(`bundle file name ${JSON.stringify(name)} is not a plain file name`);
  }
}

/** Encodes files for {@link receiveBundleSnippet}: one line per file, `<name> <base64 content>`. */
export function renderBundle(files: BundleFile[]): string {
  const seen = new Set<string>();
  return files
    .map((file) => {
      requireFileName(file.name);
      if (seen.has(file.name)) throw new Error(`bundle file ${file.name} appears twice`);
      seen.add(file.name);
      return `${file.name} ${Buffer.from(file.content, "utf8").toString("base64")}\n`;
    })
    .join("");
}

/**
 * Shell that reads a {@link renderBundle} from standard input (file descriptor 3, see
 * asRemoteCommand) into the directory named by the script variable `dirVariable` (mode 0600 files
 * in a 0700 directory), rewriting a file only when its content changed, and failing when a file is
 * missing or unexpected. Needs the prelude's `fail`.
 */
export function receiveBundleSnippet(dirVariable: string, expected: string[]): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(dirVariable))
    throw new Error(`${dirVariable} is not a script variable name`);
  expected.forEach(requireFileName);
  return `umask 077
install -d -m 0700 "$${dirVariable}"
expected_files=(${expected.map(shq).join(" ")})
received=" "
while IFS=' ' read -r file_name file_data <&3 || [ -n "$file_name" ]; do
  [ -n "$file_name" ] || continue
  case " \${expected_files[*]} " in
    *" $file_name "*) ;;
    *) fail "standard input carried an unexpected file '$file_name' (expected: \${expected_files[*]})" ;;
  esac
  tmp="$${dirVariable}/.$file_name.new"
  printf '%s' "$file_data" | base64 -d >"$tmp" || fail "could not decode $file_name from standard input"
  chmod 0600 "$tmp"
  if cmp -s "$tmp" "$${dirVariable}/$file_name"; then rm -f "$tmp"; else mv -f "$tmp" "$${dirVariable}/$file_name"; fi
  received="$received$file_name "
done
for file_name in "\${expected_files[@]}"; do
  case "$received" in
    *" $file_name "*) ;;
    *) fail "standard input did not carry $file_name (expected: \${expected_files[*]})" ;;
  esac
done`;
}
