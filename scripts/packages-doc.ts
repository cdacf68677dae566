/**
 * Writes the generated part of docs/packages.md from src/features/packages/descriptor.ts:
 * the step actions with their fields, the template variables and the JSON Schema of
 * medulla-package.json, so the doc and the code cannot drift. `bun scripts/packages-doc.ts`
 * rewrites the file; `--check` exits 1 when it is stale (a unit test runs the same check).
 */
import { join } from "node:path";
import { beginMarker, END_MARKER, replaceGenerated, writeOrCheck } from "./lib/generated-doc.ts";
import { STEP_SCHEMAS, TEMPLATE_VARIABLES, descriptorJsonSchema } from "../src/features/packages/descriptor.ts";

const root = join(import.meta.dir, "..");
export const DOC_PATH = join(root, "docs", "packages.md");
const BEGIN = beginMarker("scripts/packages-doc.ts");
const END = END_MARKER;
const COMMON = new Set(["action", "id", "label", "next"]);

interface Schema {
  type?: string;
  const?: unknown;
  anyOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  description?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
}

function typeOf(s: Schema): string {
  if (s.anyOf) return s.anyOf.map((a) => (a.const !== undefined ? `\`${JSON.stringify(a.const)}\`` : typeOf(a))).join(" \\| ");
  if (s.type === "array") return `${s.items?.properties ? "object" : typeOf(s.items ?? {})}[]`;
  return s.type ?? "any";
}

export function renderGenerated(): string {
  const parts: string[] = [BEGIN, "", "### Step actions", "", "Every step has `action`, `id`, optional `label` and optional `next` (routing). Fields per action:", ""];
  parts.push("| action | what it does | fields (* = required) |", "|---|---|---|");
  for (const [name, schema] of Object.entries(STEP_SCHEMAS) as [string, Schema][]) {
    const req = new Set(schema.required ?? []);
    const fields = Object.entries(schema.properties ?? {})
      .filter(([k]) => !COMMON.has(k))
      .map(([k, p]) => `\`${k}\`${req.has(k) ? "*" : ""}: ${typeOf(p)}`)
      .join("; ");
    parts.push(`| \`${name}\` | ${schema.description ?? ""} | ${fields || "—"} |`);
  }
  parts.push("", "### Template variables", "", "| variable | value |", "|---|---|");
  for (const [k, v] of Object.entries(TEMPLATE_VARIABLES)) parts.push(`| \`{{${k}}}\` | ${v} |`);
  parts.push("", "### JSON Schema of `medulla-package.json`", "", "```json", JSON.stringify(descriptorJsonSchema(), null, 2), "```", "", END);
  return parts.join("\n");
}

export function updatedDoc(doc: string, generated = renderGenerated()): string {
  return replaceGenerated(doc, generated, BEGIN, DOC_PATH);
}

if (import.meta.main) writeOrCheck(DOC_PATH, (doc) => updatedDoc(doc), "scripts/packages-doc.ts");
