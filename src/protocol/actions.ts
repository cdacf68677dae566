/**
 * @module protocol/actions
 * Every action of the agent protocol, declared once with the schema of its `data` and of
 * its reply's `data` (TypeBox: JSON Schema and a static type from one declaration). The
 * server and the agent both import this; docs/protocol.md describes the same list.
 */
import { Type, type Static, type TLiteral, type TUnion } from "@sinclair/typebox";

const Str = (max = 255) => Type.String({ maxLength: max });
/** A union of string literals, typed as such. */
const oneOf = <const T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v))) as unknown as TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }>;

export const DEPLOY_EVENT_STATES = ["transferring", "running", "rebooting", "succeeded", "failed", "stopped", "deferred"] as const;
/** User-facing steps (agent/src/desktop): the kind of prompt and what came of it. */
export const PROMPT_KINDS = ["kiosk_notify", "user_notify", "ask_user", "defer"] as const;
export const PROMPT_OUTCOMES = ["answered", "timeout", "dismissed", "no_session", "no_tool", "error", "shown", "limit", "deadline"] as const;
export const DEPLOY_FAILURE_REASONS = ["download", "checksum", "permission", "step", "agent", "refused", "stopped", "expired"] as const;

export const MachineFacts = Type.Object(
  {
    agentId: Str(64),
    agentVersion: Str(32),
    hostname: Str(255),
    os: Type.Union([Type.Literal("linux"), Type.Literal("windows"), Type.Literal("darwin"), Type.Literal("other")]),
    osName: Str(255),
    osVersion: Str(100),
    arch: Str(32),
    ips: Type.Array(Str(64), { maxItems: 64 }),
    macs: Type.Array(Str(32), { maxItems: 64 }),
    loggedUser: Str(255),
    uptimeSeconds: Type.Integer({ minimum: 0 }),
    uuid: Type.Optional(Str(64)),
    serial: Type.Optional(Str(128)),
    manufacturer: Type.Optional(Str(128)),
  },
  { additionalProperties: true },
);
export type MachineFacts = Static<typeof MachineFacts>;

/**
 * A batch of a running step's output (agent → server inside `deployevent`, state
 * `running`). Lines are numbered from 0 per step execution (`exec`); `from` is the number
 * of the first line here, counting every line the step wrote, so lines the agent left out
 * (past the first ones, only the newest of each batch are sent) show as the gap between
 * one batch's end and the next `from`. `capped`: the agent sends no more lines for this
 * step (its cap); the final record at the step's end keeps the first and last lines.
 */
export const LiveOutputBatch = Type.Object(
  {
    exec: Type.Integer({ minimum: 1 }),
    step: Type.Integer({ minimum: 0 }),
    from: Type.Integer({ minimum: 0 }),
    lines: Type.Array(Type.String({ maxLength: 2_000 }), { maxItems: 200 }),
    capped: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);
export type LiveOutputBatch = Static<typeof LiveOutputBatch>;

/** Push transfers (XEP-0047 semantics in our envelope: agent/src/deploy/push.ts, src/features/deployments/push.ts). */
export const PUSH = {
  /** Raw bytes per `pushdata` block: base64 makes 43,692 characters, far under the 64 KiB body and 256 KiB stanza limits. */
  blockSize: 32 * 1024,
  maxBlockSize: 45_000,
  /** Blocks sent before waiting for the oldest one's acknowledgement. */
  window: 8,
} as const;

export const actions = {
  /** Agent → server right after connecting, and whenever its facts change. */
  announce: { data: MachineFacts, result: Type.Object({ machineId: Type.Integer() }, { additionalProperties: true }) },
  /** Server → agent (or agent → server): are you there? */
  ping: { data: Type.Object({}, { additionalProperties: true }), result: Type.Object({ time: Type.Integer() }, { additionalProperties: true }) },
  /** Server → agent: the agent's version and build. */
  agentversion: { data: Type.Object({}, { additionalProperties: true }), result: Type.Object({ version: Str(32), os: Str(32), arch: Str(32) }, { additionalProperties: true }) },
  /**
   * Server → agent: collect and post an inventory now. The agent answers at once (accepted
   * or not, and why), then posts the inventory over HTTPS (DESIGN.md: large payloads never
   * travel over XMPP); `force` sends a full inventory even when nothing changed.
   */
  inventory: {
    data: Type.Object({ force: Type.Optional(Type.Boolean()) }, { additionalProperties: true }),
    result: Type.Object({ accepted: Type.Boolean(), reason: Type.Optional(Str(255)) }, { additionalProperties: true }),
  },
  /** Server → agent: the facts the Computers view needs, now. */
  machinefacts: { data: Type.Object({}, { additionalProperties: true }), result: MachineFacts },
  /**
   * Server → agent: run a command or script (a quick action) and answer once it ends, with
   * its exit code and its output (stdout then stderr, merged as the program wrote them),
   * cut at `maxOutputBytes` and marked truncated. Past `timeoutSeconds` the process tree is
   * killed and `timedOut` is true.
   */
  runscript: {
    data: Type.Object({
      interpreter: Type.Union([Type.Literal("shell"), Type.Literal("powershell"), Type.Literal("cmd"), Type.Literal("python")]),
      script: Type.String({ minLength: 1, maxLength: 32_768 }),
      os: Type.Optional(Str(16)),
      timeoutSeconds: Type.Integer({ minimum: 1, maximum: 86_400 }),
      maxOutputBytes: Type.Optional(Type.Integer({ minimum: 256, maximum: 48_000 })),
    }, { additionalProperties: true }),
    result: Type.Object({
      exitCode: Type.Union([Type.Integer(), Type.Null()]),
      output: Type.String({ maxLength: 60_000 }),
      truncated: Type.Boolean(),
      timedOut: Type.Boolean(),
      durationMs: Type.Integer({ minimum: 0 }),
    }, { additionalProperties: true }),
  },
  /** Server → agent: restart (`reboot`) or power off (`shutdown`) the machine after `delaySeconds`. */
  power: {
    data: Type.Object({ op: Type.Union([Type.Literal("reboot"), Type.Literal("shutdown")]), delaySeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })) }, { additionalProperties: true }),
    result: Type.Object({ accepted: Type.Boolean(), detail: Type.Optional(Str(500)) }, { additionalProperties: true }),
  },
  /** Server → agent: the running processes (at most `limit`, biggest memory first). */
  processes: {
    data: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }, { additionalProperties: true }),
    result: Type.Object({
      processes: Type.Array(Type.Object({ pid: Type.Integer(), name: Str(255), user: Str(64), cpuSeconds: Type.Number(), rssKb: Type.Integer(), command: Str(500) }, { additionalProperties: true }), { maxItems: 500 }),
      total: Type.Integer(),
    }, { additionalProperties: true }),
  },
  /** Server → agent: end a process (TERM, or KILL with `force`). */
  killprocess: {
    data: Type.Object({ pid: Type.Integer({ minimum: 2 }), force: Type.Optional(Type.Boolean()) }, { additionalProperties: true }),
    result: Type.Object({ killed: Type.Boolean(), detail: Type.Optional(Str(500)) }, { additionalProperties: true }),
  },
  /** Server → agent: mounted file systems with their size and use. */
  diskusage: {
    data: Type.Object({}, { additionalProperties: true }),
    result: Type.Object({
      filesystems: Type.Array(Type.Object({ mount: Str(500), device: Str(255), type: Str(64), totalBytes: Type.Number(), usedBytes: Type.Number(), freeBytes: Type.Number() }, { additionalProperties: true }), { maxItems: 200 }),
    }, { additionalProperties: true }),
  },
  /** Server → agent: listening ports and connections. */
  netstat: {
    data: Type.Object({}, { additionalProperties: true }),
    result: Type.Object({
      sockets: Type.Array(Type.Object({ proto: Str(8), local: Str(100), remote: Str(100), state: Str(32), pid: Type.Optional(Type.Integer()), process: Type.Optional(Str(255)) }, { additionalProperties: true }), { maxItems: 1000 }),
      truncated: Type.Optional(Type.Boolean()),
    }, { additionalProperties: true }),
  },
  /** Server → agent: read the agent's configuration file (secrets blanked). */
  configread: {
    data: Type.Object({ file: Type.Optional(Type.Literal("agent.ini")) }, { additionalProperties: true }),
    result: Type.Object({ file: Str(64), path: Str(1000), content: Type.String({ maxLength: 32_768 }) }, { additionalProperties: true }),
  },
  /**
   * Server → agent: replace the agent's configuration file. The agent checks the new text
   * (it must load, and keep the agent's identity), keeps the previous file as `<file>.bak`,
   * then writes atomically; `problems` lists why it refused. A blanked secret keeps its value.
   */
  configwrite: {
    data: Type.Object({ file: Type.Optional(Type.Literal("agent.ini")), content: Type.String({ maxLength: 32_768 }) }, { additionalProperties: true }),
    result: Type.Object({ saved: Type.Boolean(), problems: Type.Array(Str(500), { maxItems: 50 }), backup: Type.Optional(Str(1000)) }, { additionalProperties: true }),
  },
  /**
   * Server → agent: send Wake-on-LAN magic packets (6×0xFF then 16× the MAC) to
   * `broadcast` on UDP 9 and 7, for machines on this agent's subnet.
   */
  wakeonlan: {
    data: Type.Object({ macs: Type.Array(Type.String({ pattern: "^[0-9a-f]{2}(:[0-9a-f]{2}){5}$" }), { minItems: 1, maxItems: 256 }), broadcast: Type.String({ maxLength: 45 }) }, { additionalProperties: true }),
    result: Type.Object({ sent: Type.Integer(), errors: Type.Array(Str(500), { maxItems: 256 }) }, { additionalProperties: true }),
  },
  /**
   * Server → agent: open a pseudo-terminal running the login shell, for session `sid`;
   * answered once the shell has written its prompt (or after 5 s), so that nothing typed
   * while it starts is lost.
   */
  shellopen: {
    data: Type.Object({ sid: Str(64), cols: Type.Integer({ minimum: 2, maximum: 1000 }), rows: Type.Integer({ minimum: 2, maximum: 500 }) }, { additionalProperties: true }),
    result: Type.Object({ opened: Type.Boolean(), shell: Type.Optional(Str(255)), detail: Type.Optional(Str(500)) }, { additionalProperties: true }),
  },
  /** Server → agent: keystrokes for session `sid` (base64; no reply). */
  shellinput: { data: Type.Object({ sid: Str(64), data: Type.String({ maxLength: 16_384 }) }, { additionalProperties: true }), result: Type.Object({}, { additionalProperties: true }) },
  /** Server → agent: the browser's terminal changed size (no reply). */
  shellresize: { data: Type.Object({ sid: Str(64), cols: Type.Integer({ minimum: 2, maximum: 1000 }), rows: Type.Integer({ minimum: 2, maximum: 500 }) }, { additionalProperties: true }), result: Type.Object({}, { additionalProperties: true }) },
  /** Server → agent: end session `sid` (hang up the terminal; no reply). */
  shellclose: { data: Type.Object({ sid: Str(64) }, { additionalProperties: true }), result: Type.Object({}, { additionalProperties: true }) },
  /** Agent → server: terminal output of session `sid` (base64, in order by `seq`; no reply). */
  shelloutput: { data: Type.Object({ sid: Str(64), seq: Type.Integer({ minimum: 0 }), data: Type.String({ maxLength: 44_000 }) }, { additionalProperties: true }), result: Type.Object({}, { additionalProperties: true }) },
  /** Agent → server: the shell of session `sid` ended (no reply). */
  shellexit: { data: Type.Object({ sid: Str(64), code: Type.Union([Type.Integer(), Type.Null()]), detail: Type.Optional(Str(500)) }, { additionalProperties: true }), result: Type.Object({}, { additionalProperties: true }) },
  /**
   * Server → agent: run a deployment. Small on purpose: the plan (packages, steps, files)
   * is fetched over HTTPS at `/api/v1/agents/deployments/{runId}/plan` and checked against
   * `planSha256`; files come from `/api/v1/agents/files/{sha256}`. `runId` is the
   * idempotence key: sending the same run again (no acknowledgement seen, server restarted)
   * never starts it twice, the agent answers with where that run stands.
   */
  deploy: {
    data: Type.Object(
      {
        runId: Str(64),
        deploymentId: Type.Integer({ minimum: 1 }),
        planSha256: Type.String({ pattern: "^[0-9a-f]{64}$" }),
        transfer: Type.Union([Type.Literal("pull"), Type.Literal("push")]),
        bandwidthKbps: Type.Integer({ minimum: 0 }),
        deadline: Type.Integer({ minimum: 0, description: "epoch ms after which the run must not start a new step" }),
        /**
         * Deferral state kept by the server (the source of truth): postponements used so far
         * for this machine, and whether the user may still postpone (false once the limit or
         * the deadline is reached; a defer step then runs without asking).
         */
        deferral: Type.Optional(Type.Object({ used: Type.Integer({ minimum: 0 }), allowed: Type.Boolean(), why: Type.Optional(Str(200)) }, { additionalProperties: true })),
      },
      { additionalProperties: true },
    ),
    result: Type.Object({
      accepted: Type.Boolean(), state: Type.Optional(Str(32)), lastSeq: Type.Optional(Type.Integer({ minimum: 0 })), reason: Type.Optional(Str(500)),
      /** The transfer methods this agent knows; an agent that does not list `push` gets no push deployment. */
      transfers: Type.Optional(Type.Array(Str(16), { maxItems: 8 })),
    }, { additionalProperties: true }),
  },
  /** Server → agent: stop a run (the step in progress is killed); the agent reports `stopped`. */
  deploystop: {
    data: Type.Object({ runId: Str(64) }, { additionalProperties: true }),
    result: Type.Object({ stopped: Type.Boolean(), state: Type.Optional(Str(32)) }, { additionalProperties: true }),
  },
  /**
   * Agent → server: what a run did. `seq` counts from 1 per run; the server applies each
   * `seq` once and always answers `ack` (the highest applied), so the agent keeps unacked
   * events on disk and sends them again after a reconnection or a restart. `stop` in the
   * answer tells the agent the server no longer wants this run (stopped, expired).
   */
  deployevent: {
    data: Type.Object(
      {
        runId: Str(64),
        seq: Type.Integer({ minimum: 1 }),
        at: Type.Integer({ minimum: 0 }),
        state: oneOf(DEPLOY_EVENT_STATES),
        step: Type.Optional(Type.Integer({ minimum: 0 })),
        stepLabel: Type.Optional(Str(200)),
        exitCode: Type.Optional(Type.Integer()),
        reason: Type.Optional(oneOf(DEPLOY_FAILURE_REASONS)),
        detail: Type.Optional(Str(2000)),
        bytesDone: Type.Optional(Type.Integer({ minimum: 0 })),
        bytesTotal: Type.Optional(Type.Integer({ minimum: 0 })),
        /** Which execution of a step this is, counted from 1 per run (a step run again by a goto gets a new one). */
        exec: Type.Optional(Type.Integer({ minimum: 1 })),
        /** Output of the step running now, sent while it runs (agent/src/deploy/live.ts). */
        output: Type.Optional(LiveOutputBatch),
        /** A user-facing step: what was shown or asked, and the answer (or timeout, no session…). */
        interaction: Type.Optional(
          Type.Object(
            {
              kind: oneOf(PROMPT_KINDS),
              step: Type.Integer({ minimum: 0 }),
              asked: Str(2000),
              outcome: oneOf(PROMPT_OUTCOMES),
              answer: Type.Optional(Type.Union([Type.Literal("yes"), Type.Literal("no")])),
              by: Type.Optional(Str(200)),
              applied: Type.Optional(Str(200)),
            },
            { additionalProperties: true },
          ),
        ),
        /** With state `deferred`: the user postponed at defer step `step` of package `pkg` (the server checks it against the plan). */
        deferral: Type.Optional(Type.Object({ pkg: Type.Integer({ minimum: 0 }), step: Type.Integer({ minimum: 0 }) }, { additionalProperties: true })),
        log: Type.Optional(
          Type.Array(
            Type.Object({ kind: Type.Union([Type.Literal("step"), Type.Literal("output"), Type.Literal("download")]), text: Str(16_000), step: Type.Optional(Type.Integer({ minimum: 0 })), exitCode: Type.Optional(Type.Integer()) }, { additionalProperties: true }),
            { maxItems: 20 },
          ),
        ),
      },
      { additionalProperties: true },
    ),
    result: Type.Object({ ack: Type.Integer({ minimum: 0 }), stop: Type.Optional(Type.Boolean()) }, { additionalProperties: true }),
  },
  /**
   * Server → agent: open an in-band transfer of one file of a push run (XEP-0047 "open":
   * session `sid`, `blockSize`). The agent answers the bytes it already holds of it
   * (`offset`, from an earlier session cut short), or `complete` when it has the whole
   * file checked; the server sends from there. `kind` `plan` is the run's plan (its
   * SHA-256 is the `deploy` message's `planSha256`).
   */
  pushopen: {
    data: Type.Object({
      runId: Str(64), sid: Str(64), sha256: Type.String({ pattern: "^[0-9a-f]{64}$" }), size: Type.Integer({ minimum: 0 }),
      blockSize: Type.Integer({ minimum: 512, maximum: PUSH.maxBlockSize }), kind: Type.Optional(Type.Union([Type.Literal("plan"), Type.Literal("file")])),
    }, { additionalProperties: true }),
    result: Type.Object({ accepted: Type.Boolean(), offset: Type.Integer({ minimum: 0 }), complete: Type.Optional(Type.Boolean()), reason: Type.Optional(Str(500)) }, { additionalProperties: true }),
  },
  /**
   * Server → agent: one block (XEP-0047 "data"): `seq` counts from 0 per session, `offset`
   * is where the block starts in the file, `data` is base64. Each block is acknowledged
   * (`ack` = its seq, `have` = bytes held in order); several are in flight at once.
   */
  pushdata: {
    data: Type.Object({ sid: Str(64), seq: Type.Integer({ minimum: 0 }), offset: Type.Integer({ minimum: 0 }), data: Type.String({ maxLength: 60_000 }) }, { additionalProperties: true }),
    result: Type.Object({ ack: Type.Integer({ minimum: 0 }), have: Type.Integer({ minimum: 0 }) }, { additionalProperties: true }),
  },
  /**
   * Server → agent: end of the session (XEP-0047 "close"). Without `error`, the file is
   * whole: the agent checks its SHA-256 and renames it into place (`ok`), or deletes it
   * (`ok` false, `reason` `checksum`). With `error`, the server cannot send it: the run
   * fails with that reason.
   */
  pushclose: {
    data: Type.Object({ sid: Str(64), error: Type.Optional(Type.Object({ reason: Type.Union([Type.Literal("download"), Type.Literal("checksum")]), detail: Str(500) })) }, { additionalProperties: true }),
    result: Type.Object({ ok: Type.Boolean(), reason: Type.Optional(Str(32)), detail: Type.Optional(Str(500)) }, { additionalProperties: true }),
  },
} as const;

export type ActionName = keyof typeof actions;
export type ActionData<A extends ActionName> = Static<(typeof actions)[A]["data"]>;
export type ActionResult<A extends ActionName> = Static<(typeof actions)[A]["result"]>;
