/**
 * Writes the generated part of docs/protocol.md from the code that defines the protocol
 * (src/protocol/actions.ts and envelope.ts), so the doc and the code cannot drift:
 * every action with its direction (the doc comment above it in actions.ts), its `data`
 * and reply schemas as tables, and the return codes. `bun scripts/protocol-doc.ts`
 * rewrites the file; `--check` exits 1 when it is stale (a unit test runs the same check).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beginMarker, END_MARKER, replaceGenerated, writeOrCheck } from "./lib/generated-doc.ts";
import { actions } from "../src/protocol/actions.ts";
import { PROTOCOL_VERSION, Ret, MAX_BODY_BYTES } from "../src/protocol/envelope.ts";

const root = join(import.meta.dir, "..");
export const DOC_PATH = join(root, "docs", "protocol.md");
const BEGIN = beginMarker("scripts/protocol-doc.ts");
const END = END_MARKER;

interface Schema {
  type?: string;
  const?: unknown;
  anyOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean;
  maxLength?: number;
  maxItems?: number;
  minimum?: number;
}

function typeOf(s: Schema): string {
  if (s.anyOf) return s.anyOf.map((a) => (a.const !== undefined ? `\`${JSON.stringify(a.const)}\`` : typeOf(a))).join(" \\| ");
  if (s.type === "array") return `${typeOf(s.items ?? {})}[]`;
  return s.type ?? "any";
}

function limits(s: Schema): string {
  const out: string[] = [];
  if (s.maxLength !== undefined) out.push(`≤ ${s.maxLength} chars`);
  if (s.maxItems !== undefined) out.push(`≤ ${s.maxItems} items`);
  if (s.items?.maxLength !== undefined) out.push(`items ≤ ${s.items.maxLength} chars`);
  if (s.minimum !== undefined) out.push(`≥ ${s.minimum}`);
  return out.join(", ");
}

function table(s: Schema): string {
  const props = Object.entries(s.properties ?? {});
  const open = s.additionalProperties !== false ? "Other fields are allowed and ignored by readers that do not know them." : "No other fields are allowed.";
  if (!props.length) return `An object with no defined fields. ${open}\n`;
  const required = new Set(s.required ?? []);
  const rows = props.map(([name, p]) => `| \`${name}\` | ${typeOf(p)} | ${required.has(name) ? "yes" : "no"} | ${limits(p)} |`);
  return ["| field | type | required | limits |", "|---|---|---|---|", ...rows, "", open, ""].join("\n");
}

/** The doc comment right above each action's key in actions.ts: who sends it, and when. */
export function actionComments(source: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of source.matchAll(/\/\*\*((?:[^*]|\*(?!\/))*)\*\/\s*\n\s*(\w+)\s*:\s*\{/g)) {
    out[m[2]!] = m[1]!.replace(/\s*\n\s*\*\s?/g, " ").trim().replace(/^\*\s*/, "");
  }
  return out;
}

export function renderGenerated(source = readFileSync(join(root, "src", "protocol", "actions.ts"), "utf8")): string {
  const comments = actionComments(source);
  const parts: string[] = [BEGIN, "", `Protocol version: **${PROTOCOL_VERSION}**. Bodies larger than ${MAX_BODY_BYTES} bytes are refused (\`too_large\`).`, ""];
  parts.push("### Actions", "", "| action | reply | who sends it |", "|---|---|---|");
  for (const name of Object.keys(actions)) parts.push(`| \`${name}\` | \`result${name}\` | ${comments[name] ?? "(undocumented in actions.ts)"} |`);
  parts.push("");
  for (const [name, def] of Object.entries(actions)) {
    parts.push(`#### \`${name}\``, "", comments[name] ?? "", "", "Request `data`:", "", table(def.data as Schema), `Reply \`data\` (\`result${name}\`, \`ret\` 0):`, "", table(def.result as Schema));
  }
  parts.push("### Return codes (`ret`)", "", "| ret | name |", "|---|---|");
  for (const [k, v] of Object.entries(Ret)) parts.push(`| ${v} | \`${k}\` |`);
  parts.push("", END);
  return parts.join("\n");
}

/** The whole doc with its generated part replaced. */
export function updatedDoc(doc: string, generated = renderGenerated()): string {
  return replaceGenerated(doc, generated, BEGIN, DOC_PATH);
}

if (import.meta.main) writeOrCheck(DOC_PATH, (doc) => updatedDoc(doc), "scripts/protocol-doc.ts");
