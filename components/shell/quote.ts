/** Quotes a value as one shell word (POSIX sh and bash), safe for any content: the one quoting function. */
export function shq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
