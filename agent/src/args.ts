/**
 * @module agent/args
 * A small, strict command-line parser: `command --flag value`, `--flag=value`, and boolean
 * flags declared as such. Unknown flags are errors, so a typo never silently changes what
 * an enrollment does.
 */
export interface ParsedArgs {
  command: string;
  flags: Record<string, string | true>;
  positionals: string[];
}

export class UsageError extends Error {
  override name = "UsageError";
}

export function parseArgs(argv: string[], known: { values: string[]; booleans: string[] }): ParsedArgs {
  const [command = "help", ...rest] = argv;
  const flags: Record<string, string | true> = {};
  const positionals: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (!a.startsWith("--")) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (known.booleans.includes(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
    } else if (known.values.includes(name)) {
      const value = eq >= 0 ? a.slice(eq + 1) : rest[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags[name] = value;
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { command, flags, positionals };
}

export function flag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === "string" ? v : undefined;
}

export function intFlag(args: ParsedArgs, name: string, dflt: number, min: number, max: number): number {
  const v = flag(args, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}`);
  return n;
}
