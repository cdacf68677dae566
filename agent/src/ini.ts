/**
 * @module agent/ini
 * A small INI reader and writer for the agent's configuration (Medulla's agents use INI).
 * Hand-written because the file holds credentials and may have been edited by hand: the
 * reader is bounded (file size, line length, key count), never throws on content, and
 * reports every oddity as a named issue with its line number. Rules, close to Python's
 * configparser: `[section]` headers, `key = value` or `key: value`, comments on their own
 * line starting with `;` or `#` (a `;` or `#` inside a value is part of the value: passwords
 * contain them), names case-insensitive (kept lowercase), values trimmed, CRLF/CR/LF line
 * ends and a UTF-8 BOM accepted. Duplicates: the last value wins and an issue is reported.
 */

export const INI_LIMITS = { maxBytes: 1024 * 1024, maxLineLength: 8192, maxKeys: 1000 } as const;

export type IniIssueCode =
  | "too_large"
  | "line_too_long"
  | "too_many_keys"
  | "no_section"
  | "bad_section"
  | "malformed_line"
  | "empty_key"
  | "duplicate_key"
  | "duplicate_section";

export interface IniIssue {
  line: number;
  code: IniIssueCode;
  message: string;
  /** Fatal issues mean the content cannot be trusted as a whole; the others are warnings. */
  fatal: boolean;
}

export type IniData = Record<string, Record<string, string>>;

export interface IniParseResult {
  data: IniData;
  issues: IniIssue[];
}

const FATAL: ReadonlySet<IniIssueCode> = new Set(["too_large", "line_too_long", "too_many_keys", "bad_section", "malformed_line", "empty_key"]);
const SECTION = /^\[([^\]\r\n]*)\]$/;
const NAME = /^[A-Za-z0-9_.\-]+$/;

export function parseIni(text: string): IniParseResult {
  const data: IniData = Object.create(null);
  const issues: IniIssue[] = [];
  const issue = (line: number, code: IniIssueCode, message: string) => issues.push({ line, code, message, fatal: FATAL.has(code) });
  if (text.length > INI_LIMITS.maxBytes) {
    issue(0, "too_large", `the file is larger than ${INI_LIMITS.maxBytes} bytes`);
    return { data, issues };
  }
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  let section: string | null = null;
  let keys = 0;
  const seenSections = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const raw = lines[i]!;
    if (raw.length > INI_LIMITS.maxLineLength) {
      issue(n, "line_too_long", `line longer than ${INI_LIMITS.maxLineLength} characters`);
      continue;
    }
    const line = raw.trim();
    if (line === "" || line.startsWith(";") || line.startsWith("#")) continue;
    if (line.startsWith("[")) {
      const m = SECTION.exec(line);
      const name = m?.[1]?.trim().toLowerCase() ?? "";
      if (!m || !NAME.test(name)) {
        issue(n, "bad_section", `bad section header ${JSON.stringify(line.slice(0, 80))}`);
        section = null;
        continue;
      }
      if (seenSections.has(name)) issue(n, "duplicate_section", `section [${name}] appears again; its keys are merged`);
      seenSections.add(name);
      section = name;
      data[section] ??= Object.create(null);
      continue;
    }
    const at = firstDelimiter(line);
    if (at < 0) {
      issue(n, "malformed_line", "expected `key = value`");
      continue;
    }
    const key = line.slice(0, at).trim().toLowerCase();
    const value = line.slice(at + 1).trim();
    if (!key || !NAME.test(key)) {
      issue(n, "empty_key", `bad key ${JSON.stringify(key.slice(0, 80))}`);
      continue;
    }
    if (section === null) {
      issue(n, "no_section", `key "${key}" is outside any [section]; ignored`);
      continue;
    }
    if (++keys > INI_LIMITS.maxKeys) {
      issue(n, "too_many_keys", `more than ${INI_LIMITS.maxKeys} keys`);
      break;
    }
    const target = data[section]!;
    if (key in target) issue(n, "duplicate_key", `key "${key}" appears again in [${section}]; the last value wins`);
    target[key] = value;
  }
  return { data, issues };
}

function firstDelimiter(line: string): number {
  const eq = line.indexOf("=");
  const colon = line.indexOf(":");
  if (eq < 0) return colon;
  if (colon < 0) return eq;
  return Math.min(eq, colon);
}

/** An INI value or name that the format cannot carry faithfully. */
export class IniWriteError extends Error {
  override name = "IniWriteError";
}

/**
 * Writes sections in the given order. Refuses what would not read back the same: names
 * outside [A-Za-z0-9_.-], values with line breaks, NUL, or surrounding spaces.
 */
export function stringifyIni(data: IniData, header: string[] = []): string {
  const out: string[] = header.map((h) => `; ${h}`);
  for (const [section, entries] of Object.entries(data)) {
    if (!NAME.test(section)) throw new IniWriteError(`bad section name ${JSON.stringify(section)}`);
    if (out.length) out.push("");
    out.push(`[${section}]`);
    for (const [key, value] of Object.entries(entries)) {
      if (!NAME.test(key)) throw new IniWriteError(`bad key ${JSON.stringify(key)}`);
      if (/[\r\n\0]/.test(value) || value !== value.trim())
        throw new IniWriteError(`the value of ${section}.${key} has a line break, NUL or surrounding spaces`);
      out.push(`${key} = ${value}`);
    }
  }
  return `${out.join("\n")}\n`;
}
