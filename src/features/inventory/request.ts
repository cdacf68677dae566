/**
 * @module inventory/request
 * "Request inventory" (SPEC C2, C9): the server asks an online agent over the channel to
 * collect and post now (`inventory` action, docs/protocol.md); the agent answers at once
 * whether it accepted, then posts over HTTPS like any other inventory. The request is in
 * the history (criterion "requested") whatever the agent answers.
 */
import { Conflict } from "../../errors.ts";
import type { AgentChannel } from "../../protocol/channel.ts";
import { request } from "../../protocol/envelope.ts";
import type { Viewer } from "../entities/service.ts";
import type { Recorder } from "../history/service.ts";
import type { MachinesService } from "../machines/service.ts";

export function createInventoryRequests(deps: { machines: MachinesService; channel: AgentChannel; recorder: Recorder; timeoutMs?: number }) {
  return {
    async request(viewer: Viewer, machineId: number, force: boolean, ip: string): Promise<{ accepted: boolean; reason?: string }> {
      const m = deps.machines.get(viewer, machineId);
      if (!m.jid || !deps.channel.isOnline(m.jid)) throw new Conflict("inventory.error.offline", { name: m.hostname });
      deps.recorder.record({
        module: "inventory", action: "inventory.history.requested", params: { name: m.hostname }, criterion: "requested",
        userId: viewer.id, userLogin: viewer.login, sourceIp: ip, target: { type: "machine", id: m.id, name: m.hostname },
      });
      try {
        const answer = await deps.channel.request(m.jid, request("inventory", { force }), deps.timeoutMs ?? 10_000);
        if (answer.ret !== 0) return { accepted: false, reason: String(answer.data.error ?? `error ${answer.ret}`).slice(0, 255) };
        const reason = typeof answer.data.reason === "string" ? answer.data.reason.slice(0, 255) : undefined;
        return { accepted: answer.data.accepted === true, ...(reason && { reason }) };
      } catch (err) {
        return { accepted: false, reason: `no answer from the agent (${(err as Error).message.slice(0, 200)})` };
      }
    },
  };
}

export type InventoryRequests = ReturnType<typeof createInventoryRequests>;
