import { expect, test } from "bun:test";
import { join } from "node:path";

// The TSX library inserts text raw unless marked `safe`: its scanner must find nothing.
test("the @kitajs/html XSS scanner finds no unescaped value in views or routes", () => {
  const root = join(import.meta.dir, "../..");
  const run = Bun.spawnSync([join(root, "node_modules/.bin/xss-scan"), "--cwd", root], { cwd: root, env: { ...process.env, NO_COLOR: "1" } });
  const out = `${run.stdout.toString()}${run.stderr.toString()}`;
  expect({ exitCode: run.exitCode, out }).toEqual({ exitCode: 0, out: expect.any(String) });
}, 60_000);
