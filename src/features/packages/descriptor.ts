/**
 * @module packages/descriptor
 * The package descriptor `medulla-package.json` (DESIGN.md "Packages", SPEC P2): the
 * metadata of a package and, per operating system, its ordered steps in the sections
 * install / update / uninstall / launch. Declared once with TypeBox (JSON Schema + static
 * types); docs/packages.md carries the JSON Schema generated from here
 * (`bun scripts/packages-doc.ts`).
 *
 * Routing: a step ends with an outcome (`ok` or not) and, for steps that run something, a
 * return code. The next step is, in order: the first `next.codes` rule whose condition
 * matches the code (`==n`, `!=n`, `<n`, `<=n`, `>n`, `>=n`, `a..b` inclusive), else
 * `next.success` / `next.error`, else the defaults: on success the following step, on error
 * the section's first `end_error` step. A target is a step `id` of the same section. A
 * section finishes only on an `end_success` or `end_error` step.
 *
 * Template variables `{{name}}` (see TEMPLATE_VARIABLES) are expanded by the agent in every
 * string field of a step just before it runs.
 *
 * Exported names are a contract with the deployment engine and the agent's step runner:
 * add, never rename. They live in three modules, re-exported here: descriptor-schema.ts
 * (declarations), descriptor-flow.ts (templates, return codes, routing), descriptor-check.ts
 * (validation).
 */
export * from "./descriptor-schema.ts";
export * from "./descriptor-flow.ts";
export * from "./descriptor-check.ts";
