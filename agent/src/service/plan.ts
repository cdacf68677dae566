/**
 * @module agent/service/plan
 * An install or uninstall as data: files to write or remove and command lines to run, in
 * order. The per-OS modules build plans with pure functions (unit-tested on their output);
 * index.ts applies them on the real machine or prints them (`--dry-run`).
 */
export interface ServiceTarget {
  /** The program and the arguments before `run` (the binary; or bun and main.ts from source). */
  program: string[];
  configPath: string;
}

export type Step =
  | { kind: "write"; path: string; content: string; mode: number }
  | { kind: "remove"; path: string }
  | { kind: "run"; argv: string[]; mayFail?: boolean };

export interface Plan {
  manager: "systemd" | "windows-service" | "launchd";
  steps: Step[];
}

/** A command line as a person would type it in a POSIX shell (for --dry-run and logs). */
export function shellLine(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}
