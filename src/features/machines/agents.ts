/**
 * @module machines/agents
 * The machines feature's side of the agent channel: presence and announcements update the
 * machines table; announcements are answered; malformed or unknown messages were already
 * answered with an error by the channel. Also the actions that need both the table and the
 * channel: ban (account disabled, connection cut at once), unban, delete, and the XMPP
 * console's raw request.
 */
import type { Logger } from "../../log.ts";
import { MachineFacts } from "../../protocol/actions.ts";
import { reply, request as makeRequest, type Envelope } from "../../protocol/envelope.ts";
import type { AgentChannel } from "../../protocol/channel.ts";
import { Value } from "@sinclair/typebox/value";
import { Conflict } from "../../errors.ts";
import type { Viewer } from "../entities/service.ts";
import type { Recorder } from "../history/service.ts";
import type { AgentAccounts } from "./enrollment.ts";
import type { MachinesService } from "./service.ts";

export function linkAgents(deps: { machines: MachinesService; channel: AgentChannel; accounts: AgentAccounts; recorder: Recorder; log: Logger }) {
  const { machines, channel, accounts, log } = deps;
  const ips = new Map<string, string>();
  const usernameOf = (jid: string) => jid.split("@")[0]!;

  machines.resetPresence();
  channel.onPresence((ev) => {
    // A restarted agent's new connection can be up before its old one is seen closing:
    // the machine is offline only when no connection of its account is left.
    if (!ev.available && channel.isOnline(ev.jid)) return;
    if (ev.available && ev.ip) ips.set(ev.jid, ev.ip);
    machines.presence(ev.jid, ev.available, ev.ip ?? "");
  });
  channel.onMessage((from, env) => {
    const jid = from.split("/")[0]!;
    if (env.action !== "announce") return;
    if (!Value.Check(MachineFacts, env.data)) return;
    const m = machines.announce(jid, env.data, ips.get(jid) ?? "");
    if (!m) {
      log.warn({ jid }, "announce from an XMPP account without a machine");
      channel.send(jid, reply(env, { error: "unknown_machine" }, 404));
      return;
    }
    channel.send(jid, reply(env, { machineId: m.id }));
    // An agent that announces itself is connected: this also settles the order of a
    // restarted agent's old goodbye and new hello, which the relay may report either way.
    if (channel.isOnline(jid) && m.online !== 1) machines.presence(jid, true, ips.get(jid) ?? "");
  });

  return {
    ban(viewer: Viewer, id: number, ip: string): void {
      const m = machines.setBanned(viewer, id, true, ip);
      if (m.jid) {
        accounts.setDisabled(usernameOf(m.jid), true);
        channel.disconnect(m.jid, "banned");
      }
    },
    unban(viewer: Viewer, id: number, ip: string): void {
      const m = machines.setBanned(viewer, id, false, ip);
      if (m.jid) accounts.setDisabled(usernameOf(m.jid), false);
    },
    remove(viewer: Viewer, id: number, ip: string): void {
      const m = machines.remove(viewer, id, ip);
      if (m.jid) {
        channel.disconnect(m.jid, "removed");
        accounts.remove(usernameOf(m.jid));
      }
    },
    /** The XMPP console: one action to one machine, the raw request and the raw reply. */
    async console(viewer: Viewer, id: number, action: string, data: Record<string, unknown>, ip: string, timeoutMs = 10_000): Promise<{ request: Envelope; reply: Envelope | null; error: string | null; ms: number }> {
      const m = machines.get(viewer, id);
      if (!m.jid || !channel.isOnline(m.jid)) throw new Conflict("machines.error.offline", { name: m.hostname });
      const req = makeRequest(action, data);
      deps.recorder.record({ module: "quickaction", action: "machines.history.console", params: { name: m.hostname, action }, criterion: "quickaction", userId: viewer.id, userLogin: viewer.login, sourceIp: ip, target: { type: "machine", id, name: m.hostname } });
      const started = performance.now();
      try {
        const answer = await channel.request(m.jid, req, timeoutMs);
        return { request: req, reply: answer, error: null, ms: Math.round(performance.now() - started) };
      } catch (err) {
        return { request: req, reply: null, error: (err as Error).message, ms: Math.round(performance.now() - started) };
      }
    },
  };
}

export type AgentLink = ReturnType<typeof linkAgents>;
