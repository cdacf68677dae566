import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { actions } from "../../src/protocol/actions.ts";
import { actionComments, DOC_PATH, renderGenerated, updatedDoc } from "../../scripts/protocol-doc.ts";

test("docs/protocol.md matches src/protocol (run bun scripts/protocol-doc.ts if not)", () => {
  const doc = readFileSync(DOC_PATH, "utf8");
  expect(updatedDoc(doc)).toBe(doc);
});

test("every action has its direction documented in actions.ts and a section in the doc", () => {
  const comments = actionComments(readFileSync(new URL("../../src/protocol/actions.ts", import.meta.url), "utf8"));
  const generated = renderGenerated();
  for (const name of Object.keys(actions)) {
    expect(comments[name]).toMatch(/→/);
    expect(generated).toContain(`#### \`${name}\``);
  }
});
