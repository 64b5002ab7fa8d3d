import * as YAML from "yaml";

/**
 * Renders YAML that YAML 1.1 readers (Debian's docker-compose v1, Harbor's prepare, both PyYAML)
 * and YAML 1.2 readers read the same: every string value is double-quoted ("2222:22" would be a
 * base-60 number and "on" a boolean to YAML 1.1), multi-line strings are literal blocks.
 */
export function renderYaml(value: unknown): string {
  const doc = new YAML.Document(value);
  YAML.visit(doc, {
    Scalar(key, node) {
      if (key === "key" || typeof node.value !== "string") return;
      node.type = node.value.includes("\n") ? "BLOCK_LITERAL" : "QUOTE_DOUBLE";
    },
  });
  return doc.toString({ lineWidth: 0 });
}
