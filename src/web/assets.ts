/**
 * @module web/assets
 * The static files, imported `with { type: "file" }` so `bun build --compile` embeds them
 * in the single binary. Served with a content hash as ETag; htmx comes from the pinned npm
 * package, never from a CDN.
 */
import appCss from "../../static/app.css" with { type: "file" };
import appJs from "../../static/app.js" with { type: "file" };
import dashboardJs from "../../static/dashboard.js" with { type: "file" };
import favicon from "../../static/favicon.svg" with { type: "file" };
import machineGroupsJs from "../../static/machine-groups.js" with { type: "file" };
import htmx from "../../node_modules/htmx.org/dist/htmx.min.js" with { type: "file" };
import actionsJs from "../../static/actions.js" with { type: "file" };
import shellJs from "../../static/shell.js" with { type: "file" };
import xtermJs from "../../node_modules/@xterm/xterm/lib/xterm.js" with { type: "file" };
import xtermCss from "../../node_modules/@xterm/xterm/css/xterm.css" with { type: "file" };
import xtermFitJs from "../../node_modules/@xterm/addon-fit/lib/addon-fit.js" with { type: "file" };

const files: Record<string, string> = {
  "app.css": appCss,
  "app.js": appJs,
  "dashboard.js": dashboardJs,
  "favicon.svg": favicon,
  "machine-groups.js": machineGroupsJs,
  "htmx.min.js": htmx,
  // The remote shell (SPEC X5): xterm.js and its fit addon from the pinned npm packages.
  "actions.js": actionsJs,
  "shell.js": shellJs,
  "xterm.js": xtermJs,
  "xterm.css": xtermCss,
  "xterm-addon-fit.js": xtermFitJs,
};

const types: Record<string, string> = {
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
};

const cache = new Map<string, { body: Uint8Array<ArrayBuffer>; etag: string; type: string }>();

export const assetNames = Object.keys(files);

/** The asset named `name`, or null. Read once, then kept in memory. */
export async function loadAsset(name: string): Promise<{ body: Uint8Array<ArrayBuffer>; etag: string; type: string } | null> {
  const hit = cache.get(name);
  if (hit) return hit;
  const path = files[name];
  if (!path) return null;
  const body = new Uint8Array(await Bun.file(path).arrayBuffer());
  const etag = `"${new Bun.CryptoHasher("sha256").update(body).digest("hex").slice(0, 20)}"`;
  const asset = { body, etag, type: types[name.split(".").pop() ?? ""] ?? "application/octet-stream" };
  cache.set(name, asset);
  return asset;
}
