/**
 * @module actions/system
 * The built-in actions of a machine's page (SPEC C2, X4): reboot, shutdown, processes
 * (list, kill), disk usage, agent version, netstat, and the agent's configuration file
 * (read, then save with the agent's validation and backup). Each is one request over the
 * agent channel, recorded in the history with who asked.
 */
import { Conflict } from "../../errors.ts";
import type { MessageKey } from "../../i18n/index.ts";
import type { ActionName } from "../../protocol/actions.ts";
import type { AgentChannel } from "../../protocol/channel.ts";
import { request } from "../../protocol/envelope.ts";
import type { Viewer } from "../entities/service.ts";
import type { Recorder } from "../history/service.ts";
import type { MachinesService } from "../machines/service.ts";

export const SYSTEM_ACTIONS = ["processes", "killprocess", "diskusage", "netstat", "agentversion", "power", "configread", "configwrite"] as const satisfies readonly ActionName[];
export type SystemAction = (typeof SYSTEM_ACTIONS)[number];

const HISTORY: Record<SystemAction, MessageKey> = {
  processes: "sys.history.processes",
  killprocess: "sys.history.kill",
  diskusage: "sys.history.disk",
  netstat: "sys.history.netstat",
  agentversion: "sys.history.version",
  power: "sys.history.power",
  configread: "sys.history.configread",
  configwrite: "sys.history.configwrite",
};

export type SystemReply = { ok: true; data: Record<string, unknown>; ms: number } | { ok: false; error: string; ms: number };

export function createSystemActions(deps: { machines: MachinesService; channel: AgentChannel; recorder: Recorder; timeoutMs?: number }) {
  return {
    async call(viewer: Viewer, machineId: number, action: SystemAction, data: Record<string, unknown>, ip: string): Promise<SystemReply & { hostname: string }> {
      const m = deps.machines.get(viewer, machineId);
      if (!m.jid || !deps.channel.isOnline(m.jid)) throw new Conflict("machines.error.offline", { name: m.hostname });
      const detail = action === "power" ? String(data.op) : action === "killprocess" ? String(data.pid) : "";
      deps.recorder.record({
        module: action === "power" ? "machines" : "quickaction", action: HISTORY[action], params: { name: m.hostname, detail }, criterion: action === "power" ? "machine" : "quickaction",
        userId: viewer.id, userLogin: viewer.login, sourceIp: ip, target: { type: "machine", id: m.id, name: m.hostname },
      });
      const started = performance.now();
      const ms = () => Math.round(performance.now() - started);
      try {
        const answer = await deps.channel.request(m.jid, request(action, data), deps.timeoutMs ?? 30_000);
        if (answer.ret !== 0) return { ok: false, error: String(answer.data.detail ?? answer.data.error ?? `error ${answer.ret}`).slice(0, 500), ms: ms(), hostname: m.hostname };
        return { ok: true, data: answer.data, ms: ms(), hostname: m.hostname };
      } catch (e) {
        return { ok: false, error: `no answer from the agent (${(e as Error).message.slice(0, 200)})`, ms: ms(), hostname: m.hostname };
      }
    },
  };
}

export type SystemActions = ReturnType<typeof createSystemActions>;
