/**
 * @module agent/handlers
 * What the agent answers, as a pure function from a message body to a reply: `ping`,
 * `agentversion`, `machinefacts`, `deploy` and `deploystop` (agent/src/deploy), `inventory` (accepted at once or refused as busy; the
 * inventory itself goes over HTTPS, agent/src/inventory). Replies (`result…`) are handed
 * back to the caller to match with its pending requests. A malformed or unknown request gets `errorReply` and a
 * log line; a malformed reply gets only the log line, so two peers can never bounce error
 * replies at each other forever. A handler that fails answers `ret` 1 with the reason.
 */
import { errorReply, parseEnvelope, reply, Ret, type Envelope } from "../../src/protocol/envelope.ts";
import type { ActionData } from "../../src/protocol/actions.ts";
import type { DeployManager } from "./deploy/runner.ts";
import type { Facts } from "./facts/index.ts";
import type { InventoryRunner } from "./inventory/runner.ts";

export interface HandlerContext {
  facts(): Promise<Facts>;
  version: { version: string; os: string; arch: string };
  now(): number;
  /** The inventory runner; `inventoryNow` is the hook for work that changes the machine (deployments). */
  inventory?: Pick<InventoryRunner, "request" | "inventoryNow">;
  /** Deployments (agent/src/deploy): runs started by `deploy`, stopped by `deploystop`. */
  deploy?: Pick<DeployManager, "accept" | "stop">;
}

export type Handled =
  | { kind: "reply"; envelope: Envelope }
  | { kind: "answer"; envelope: Envelope; log?: { level: "warn" | "debug"; msg: string } }
  | { kind: "ignore"; log: { level: "warn" | "debug"; msg: string } };

type Handler = (req: Envelope, ctx: HandlerContext) => Promise<Record<string, unknown>>;

export const handlers: Record<string, Handler> = {
  ping: async (_req, ctx) => ({ time: ctx.now() }),
  agentversion: async (_req, ctx) => ({ ...ctx.version }),
  machinefacts: async (_req, ctx) => ({ ...(await ctx.facts()) }),
  deploy: async (req, ctx) => (ctx.deploy ? { ...(await ctx.deploy.accept(req.data as ActionData<"deploy">)) } : { accepted: false, reason: "this agent runs no deployments" }),
  deploystop: async (req, ctx) => (ctx.deploy ? { ...ctx.deploy.stop(String(req.data.runId)) } : { stopped: false }),
  inventory: async (req, ctx) => (ctx.inventory ? ctx.inventory.request(req.data.force === true) : { accepted: false, reason: "this agent runs no inventory" }),
};

/** The action name of a body we could not parse, when it is readable at all. */
function rawAction(body: string): string {
  try {
    const v = JSON.parse(body) as { action?: unknown };
    return typeof v?.action === "string" ? v.action : "";
  } catch {
    return "";
  }
}

export async function handleBody(body: string, ctx: HandlerContext): Promise<Handled> {
  const parsed = parseEnvelope(body);
  if (!parsed.ok) {
    const error = parsed.error;
    const detail = "detail" in error ? `: ${error.detail}` : "";
    if (body.length <= 100_000 && rawAction(body).startsWith("result")) {
      return { kind: "ignore", log: { level: "warn", msg: `ignored a malformed reply (${error.code}${detail})` } };
    }
    const msg = error.code === "unknown_action" ? `the agent does not handle action "${error.action}"` : `answered a bad message with an error (${error.code}${detail})`;
    return { kind: "answer", envelope: errorReply(error), log: { level: "warn", msg } };
  }
  const env = parsed.envelope;
  if (env.action.startsWith("result")) return { kind: "reply", envelope: env };
  const handler = Object.hasOwn(handlers, env.action) ? handlers[env.action] : undefined;
  if (!handler) {
    return {
      kind: "answer",
      envelope: errorReply({ code: "unknown_action", action: env.action, sessionid: env.sessionid }),
      log: { level: "warn", msg: `the agent does not handle action "${env.action}"` },
    };
  }
  try {
    return { kind: "answer", envelope: reply(env, await handler(env, ctx)) };
  } catch (e) {
    return {
      kind: "answer",
      envelope: reply(env, { error: "failed", detail: (e as Error).message.slice(0, 500) }, Ret.failed),
      log: { level: "warn", msg: `action ${env.action} failed: ${(e as Error).message}` },
    };
  }
}
