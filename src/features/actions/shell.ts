/**
 * @module actions/shell
 * The remote shell (SPEC X5): browser ⇄ WebSocket ⇄ appliance ⇄ XMPP ⇄ agent PTY.
 *
 * Upgrade (`GET /computers/:id/shell/ws?csrf=…`), checked before anything else: a signed-in
 * cookie session that is not held by a pending password change or second-factor setup,
 * the `machines.shell` right, the machine visible to the user and online, the page's CSRF
 * token in the query (a WebSocket cannot send headers), and an `Origin` equal to the
 * request's host (cross-site WebSocket hijacking). Then `shellopen` goes to the agent;
 * keystrokes (`{"t":"i","d":base64}`) and resizes (`{"t":"r","c":cols,"r":rows}`) are
 * relayed as `shellinput` / `shellresize`; the agent's `shelloutput` comes back to the
 * browser as binary frames, and `shellexit` ends the session. Output from any JID other
 * than the session's machine is ignored. Every session is a `shell_sessions` row and two
 * history entries (opened, closed); with "record transcript" the output is kept too
 * (up to 1 MB).
 */
import type { Database } from "bun:sqlite";
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import type { Access } from "../../access.ts";
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import type { AgentChannel } from "../../protocol/channel.ts";
import { request } from "../../protocol/envelope.ts";
import type { AuthService } from "../auth/service.ts";
import type { Recorder } from "../history/service.ts";
import type { MachinesService } from "../machines/service.ts";
import { parseCookies } from "../../web/context.ts";
import { sameToken } from "../../web/respond.ts";

export const SHELL_PATH = /^\/computers\/(\d+)\/shell\/ws$/;
const TRANSCRIPT_MAX = 1 << 20;

export interface ShellSocketData {
  sid: string;
  sessionId: number;
  machineId: number;
  hostname: string;
  jid: string;
  userId: number;
  login: string;
  ip: string;
  cols: number;
  rows: number;
  transcript: string[] | null;
  transcriptSize: number;
  bytesIn: number;
  bytesOut: number;
  opened: boolean;
  ended: boolean;
}

const clampInt = (v: unknown, min: number, max: number, dflt: number) => {
  const n = Number(v);
  return Number.isInteger(n) ? Math.min(max, Math.max(min, n)) : dflt;
};

export function createShellBridge(deps: { db: Database; clock: Clock; channel: AgentChannel; machines: MachinesService; access: Access; auth: AuthService; recorder: Recorder; log: Logger; permission: string; cookieName: string }) {
  const { db, clock, channel, machines, recorder, log } = deps;
  const sockets = new Map<string, ServerWebSocket<ShellSocketData>>();

  const end = (ws: ServerWebSocket<ShellSocketData>, reason: string) => {
    const d = ws.data;
    if (d.ended) return;
    d.ended = true;
    sockets.delete(d.sid);
    if (d.opened) channel.send(d.jid, request("shellclose", { sid: d.sid }));
    db.query(`UPDATE shell_sessions SET ended_at = $at, end_reason = $reason, bytes_in = $in, bytes_out = $out, transcript = $transcript WHERE id = $id`).run({
      at: clock.now(), reason: reason.slice(0, 200), in: d.bytesIn, out: d.bytesOut, transcript: d.transcript ? d.transcript.join("") : null, id: d.sessionId,
    });
    recorder.record({ module: "remotedesktop", action: "shell.history.closed", params: { name: d.hostname, reason }, criterion: "machine", userId: d.userId, userLogin: d.login, sourceIp: d.ip, target: { type: "machine", id: d.machineId, name: d.hostname } });
  };

  channel.onMessage((from, env) => {
    if (env.action !== "shelloutput" && env.action !== "shellexit") return;
    const ws = sockets.get(String(env.data.sid ?? ""));
    if (!ws || from.split("/")[0] !== ws.data.jid) return;
    if (env.action === "shelloutput") {
      const bytes = Buffer.from(String(env.data.data ?? ""), "base64");
      ws.data.bytesOut += bytes.length;
      if (ws.data.transcript && ws.data.transcriptSize < TRANSCRIPT_MAX) {
        const text = bytes.toString("utf8");
        ws.data.transcript.push(text);
        ws.data.transcriptSize += text.length;
      }
      ws.send(bytes);
    } else {
      ws.send(JSON.stringify({ t: "exit", code: env.data.code ?? null, detail: env.data.detail ?? "" }));
      end(ws, "the shell ended");
      ws.close(1000, "shell ended");
    }
  });
  channel.onPresence((ev) => {
    if (ev.available) return;
    for (const ws of sockets.values()) {
      if (ws.data.jid !== ev.jid || channel.isOnline(ev.jid)) continue;
      ws.send(JSON.stringify({ t: "exit", code: null, detail: "the machine went offline" }));
      end(ws, "the machine went offline");
      ws.close(1000, "offline");
    }
  });

  const refuse = (status: number, message: string) => new Response(message, { status, headers: { "content-type": "text/plain; charset=utf-8" } });

  return {
    /** For `Bun.serve`'s fetch: a Response when refused, undefined once upgraded, null when the path is not ours. */
    upgrade(req: Request, server: Server<ShellSocketData>, info: { ip: string }): Response | undefined | null {
      const url = new URL(req.url);
      const match = SHELL_PATH.exec(url.pathname);
      if (!match) return null;
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return refuse(426, "a WebSocket upgrade is expected");
      const origin = req.headers.get("origin");
      let originHost = "";
      try {
        originHost = origin ? new URL(origin).host : "";
      } catch {
        originHost = "";
      }
      if (!originHost || originHost !== req.headers.get("host")) return refuse(403, "cross-origin WebSocket refused");
      const session = deps.auth.resolve(parseCookies(req.headers.get("cookie")).get(deps.cookieName));
      if (!session || session.via !== "cookie") return refuse(401, "sign in first");
      const user = session.user;
      if (user.mustChangePassword || deps.auth.secondFactor.mustEnroll(user) || !deps.access.can(user, deps.permission)) return refuse(403, "forbidden");
      if (!sameToken(url.searchParams.get("csrf"), session.csrf)) return refuse(403, "bad CSRF token");
      let m;
      try {
        m = machines.get({ id: user.id, login: user.login, isSuper: user.isSuper }, Number(match[1]));
      } catch {
        return refuse(404, "no such machine");
      }
      if (!m.jid || !channel.isOnline(m.jid) || m.banned === 1) return refuse(409, "the machine is offline");
      const sid = crypto.randomUUID();
      const now = clock.now();
      const row = db
        .query(`INSERT INTO shell_sessions (machine_id, hostname, user_id, user_login, source_ip, started_at, transcript) VALUES ($m, $h, $u, $l, $ip, $at, $t) RETURNING id`)
        .get({ m: m.id, h: m.hostname, u: user.id, l: user.login, ip: info.ip, at: now, t: url.searchParams.get("transcript") === "1" ? "" : null }) as { id: number };
      recorder.record({ module: "remotedesktop", action: "shell.history.opened", params: { name: m.hostname }, criterion: "machine", userId: user.id, userLogin: user.login, sourceIp: info.ip, target: { type: "machine", id: m.id, name: m.hostname } });
      const data: ShellSocketData = {
        sid, sessionId: row.id, machineId: m.id, hostname: m.hostname, jid: m.jid, userId: user.id, login: user.login, ip: info.ip,
        cols: clampInt(url.searchParams.get("cols"), 2, 1000, 80), rows: clampInt(url.searchParams.get("rows"), 2, 500, 24),
        transcript: url.searchParams.get("transcript") === "1" ? [] : null, transcriptSize: 0, bytesIn: 0, bytesOut: 0, opened: false, ended: false,
      };
      if (!server.upgrade(req, { data })) return refuse(400, "upgrade failed");
      return undefined;
    },

    websocket: {
      maxPayloadLength: 64 * 1024,
      idleTimeout: 960,
      async open(ws) {
        const d = ws.data;
        sockets.set(d.sid, ws);
        try {
          const answer = await channel.request(d.jid, request("shellopen", { sid: d.sid, cols: d.cols, rows: d.rows }), 15_000);
          if (answer.ret !== 0 || answer.data.opened !== true) {
            const why = String(answer.data.detail ?? answer.data.error ?? "the agent refused");
            ws.send(JSON.stringify({ t: "error", detail: why }));
            end(ws, why);
            ws.close(1011, "refused");
            return;
          }
          d.opened = true;
          if (d.ended) channel.send(d.jid, request("shellclose", { sid: d.sid }));
          else ws.send(JSON.stringify({ t: "ready", shell: answer.data.shell ?? "" }));
        } catch (e) {
          ws.send(JSON.stringify({ t: "error", detail: `no answer from the agent (${(e as Error).message})` }));
          end(ws, "no answer");
          ws.close(1011, "no answer");
        }
      },
      message(ws, message) {
        const d = ws.data;
        if (!d.opened || d.ended || typeof message !== "string") return;
        let msg: { t?: unknown; d?: unknown; c?: unknown; r?: unknown };
        try {
          msg = JSON.parse(message);
        } catch {
          return;
        }
        if (msg.t === "i" && typeof msg.d === "string" && msg.d.length <= 16_384) {
          d.bytesIn += Math.floor((msg.d.length * 3) / 4);
          channel.send(d.jid, request("shellinput", { sid: d.sid, data: msg.d }));
        } else if (msg.t === "r") {
          channel.send(d.jid, request("shellresize", { sid: d.sid, cols: clampInt(msg.c, 2, 1000, 80), rows: clampInt(msg.r, 2, 500, 24) }));
        }
      },
      close(ws) {
        end(ws, "closed by the browser");
      },
    } satisfies WebSocketHandler<ShellSocketData>,

    sessions(limit = 50): { id: number; machine_id: number | null; hostname: string; user_login: string; source_ip: string; started_at: number; ended_at: number | null; end_reason: string; bytes_in: number; bytes_out: number; has_transcript: number }[] {
      return db.query(`SELECT id, machine_id, hostname, user_login, source_ip, started_at, ended_at, end_reason, bytes_in, bytes_out, transcript IS NOT NULL AS has_transcript FROM shell_sessions ORDER BY id DESC LIMIT ?`).all(limit) as never;
    },
    transcript(id: number): { machine_id: number | null; hostname: string; user_login: string; started_at: number; transcript: string | null } | null {
      return db.query("SELECT machine_id, hostname, user_login, started_at, transcript FROM shell_sessions WHERE id = ?").get(id) as never;
    },
    get open(): number {
      return sockets.size;
    },
    closeAll(): void {
      for (const ws of [...sockets.values()]) {
        end(ws, "the appliance is stopping");
        ws.close(1001, "stopping");
      }
    },
  };
}

export type ShellBridge = ReturnType<typeof createShellBridge>;
