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
import { readConfigFile, writeConfigFile } from "./actions/configfile.ts";
import { runScript, type ScriptRequest } from "./actions/script.ts";
import type { ShellSessions } from "./actions/shell.ts";
import { diskUsage, killProcess, listProcesses, netstat, power } from "./actions/system.ts";
import { sendMagicPackets } from "../../src/net/wol.ts";
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
  /** The agent's configuration file, for `configread` / `configwrite`. */
  configPath?: string;
  /** Remote shell sessions (agent/src/actions/shell.ts). */
  shells?: ShellSessions;
  /** A simulated agent (`medulla-agent simulate`): quick actions are answered without running anything. */
  simulated?: boolean;
  /** Sends a message to the server that is not a reply (shell output); set by the session. */
  emit?(action: string, data: Record<string, unknown>): void;
  /** Deployments (agent/src/deploy): runs started by `deploy`, stopped by `deploystop`. */
  deploy?: Pick<DeployManager, "accept" | "stop"> & { push?: DeployManager["push"] };
}

/** What a handler returns for a message that takes no reply (shell keystrokes). */
export const NO_REPLY = Symbol("no reply");

export type Handled =
  | { kind: "reply"; envelope: Envelope }
  | { kind: "answer"; envelope: Envelope; log?: { level: "warn" | "debug"; msg: string } }
  | { kind: "ignore"; log: { level: "warn" | "debug"; msg: string } };

type Handler = (req: Envelope, ctx: HandlerContext) => Promise<Record<string, unknown> | typeof NO_REPLY>;

const needConfig = (ctx: HandlerContext) => {
  if (!ctx.configPath) throw new Error("this agent has no configuration file");
  return ctx.configPath;
};

export const handlers: Record<string, Handler> = {
  ping: async (_req, ctx) => ({ time: ctx.now() }),
  agentversion: async (_req, ctx) => ({ ...ctx.version }),
  machinefacts: async (_req, ctx) => ({ ...(await ctx.facts()) }),
  deploy: async (req, ctx) => (ctx.deploy ? { ...(await ctx.deploy.accept(req.data as ActionData<"deploy">)) } : { accepted: false, reason: "this agent runs no deployments" }),
  deploystop: async (req, ctx) => (ctx.deploy ? { ...ctx.deploy.stop(String(req.data.runId)) } : { stopped: false }),
  // Push transfers (agent/src/deploy/push.ts): XEP-0047 open / data / close in our envelope.
  pushopen: async (req, ctx) => (ctx.deploy?.push ? { ...(await ctx.deploy.push.open(req.data as ActionData<"pushopen">)) } : { accepted: false, offset: 0, reason: "this agent runs no deployments" }),
  pushdata: async (req, ctx) => {
    if (!ctx.deploy?.push) throw new Error("this agent runs no deployments");
    return { ...(await ctx.deploy.push.data(req.data as ActionData<"pushdata">)) };
  },
  pushclose: async (req, ctx) => (ctx.deploy?.push ? { ...(await ctx.deploy.push.close(req.data as ActionData<"pushclose">)) } : { ok: false, reason: "unknown" }),
  inventory: async (req, ctx) => (ctx.inventory ? ctx.inventory.request(req.data.force === true) : { accepted: false, reason: "this agent runs no inventory" }),
  runscript: async (req, ctx) =>
    ctx.simulated
      ? { exitCode: 0, output: `simulated: ${String(req.data.script).slice(0, 200)}\n`, truncated: false, timedOut: false, durationMs: 0 }
      : { ...(await runScript(req.data as unknown as ScriptRequest)) },
  power: async (req) => power(req.data.op as "reboot" | "shutdown", typeof req.data.delaySeconds === "number" ? req.data.delaySeconds : 0),
  processes: async (req) => ({ ...(await listProcesses(typeof req.data.limit === "number" ? req.data.limit : 200)) }),
  killprocess: async (req) => killProcess(req.data.pid as number, req.data.force === true),
  diskusage: async () => ({ ...(await diskUsage()) }),
  netstat: async () => ({ ...(await netstat()) }),
  configread: async (_req, ctx) => readConfigFile(needConfig(ctx)),
  configwrite: async (req, ctx) => writeConfigFile(needConfig(ctx), req.data.content as string),
  wakeonlan: async (req) => sendMagicPackets(req.data.macs as string[], req.data.broadcast as string),
  shellopen: async (req, ctx) => {
    if (!ctx.shells || !ctx.emit) return { opened: false, detail: "this agent offers no remote shell" };
    return await ctx.shells.open(req.data.sid as string, req.data.cols as number, req.data.rows as number, ctx.emit);
  },
  shellinput: async (req, ctx) => (ctx.shells?.input(req.data.sid as string, req.data.data as string), NO_REPLY),
  shellresize: async (req, ctx) => (ctx.shells?.resize(req.data.sid as string, req.data.cols as number, req.data.rows as number), NO_REPLY),
  shellclose: async (req, ctx) => (ctx.shells?.close(req.data.sid as string), NO_REPLY),
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
    const out = await handler(env, ctx);
    if (out === NO_REPLY) return { kind: "ignore", log: { level: "debug", msg: env.action } };
    return { kind: "answer", envelope: reply(env, out) };
  } catch (e) {
    return {
      kind: "answer",
      envelope: reply(env, { error: "failed", detail: (e as Error).message.slice(0, 500) }, Ret.failed),
      log: { level: "warn", msg: `action ${env.action} failed: ${(e as Error).message}` },
    };
  }
}
