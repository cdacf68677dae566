/**
 * @module health
 * `GET /healthz` (DESIGN.md "Processes and services"): each service's state; 200 when every
 * enabled service runs, 503 otherwise. Public, and served on plain HTTP too, for probes.
 */
import type { Web } from "../../web/app.tsx";
import { json } from "../../web/respond.ts";

export type ServiceStatus = "running" | "off" | "failed";

export function registerHealth(web: Web, services: Map<string, ServiceStatus>): void {
  web.route({
    method: "GET", path: "/healthz", permission: "public", kind: "api",
    handler: () => {
      const all = Object.fromEntries(services);
      const ok = [...services.values()].every((s) => s !== "failed");
      return json({ status: ok ? "ok" : "degraded", services: all }, ok ? 200 : 503);
    },
  });
}
