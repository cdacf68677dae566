/**
 * @module web/static-routes
 * `GET /static/<name>`: the embedded assets, revalidated by ETag.
 */
import { NotFound } from "../errors.ts";
import { loadAsset } from "./assets.ts";
import type { Web } from "./app.tsx";

export function registerStatic(web: Web): void {
  web.route({
    method: "GET", path: "/static/:name", permission: "public", kind: "asset",
    handler: async ({ params, request }) => {
      const asset = await loadAsset(params.name ?? "");
      if (!asset) throw new NotFound();
      const headers = { etag: asset.etag, "content-type": asset.type, "cache-control": "no-cache" };
      if (request.headers.get("if-none-match") === asset.etag) return new Response(null, { status: 304, headers });
      return new Response(asset.body, { headers });
    },
  });
}
