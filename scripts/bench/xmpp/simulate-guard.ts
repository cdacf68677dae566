/**
 * @module scripts/bench/xmpp/simulate-guard
 * Preloaded (`bun --preload`) into the simulator by the xmpp suite, nowhere else. Under an
 * overloaded server, xmpp.js 0.14 leaves rejected promises nobody awaits: its
 * `Connection.start()` creates `promise(this, "online")` (which also rejects on "error")
 * before awaiting `open()`, so a socket reset during `open()` rejects `start()` (the
 * simulator counts a failed login) and that second promise too, unawaited; a STARTTLS
 * `sendReceive` that times out (Prosody too busy to answer within the timeout) ends the
 * same way with a TimeoutError. Bun ends the process on an unhandled rejection, so one such
 * connection would end the whole run. This drops those, and only those (socket errors and
 * xmpp.js's TimeoutError: logins the simulator has counted as failed; a login that never
 * settles would show as the suite's "logins not done in time"); anything else still ends
 * the process. The agent itself needs the fix in agent/src/xmpp/client.ts (see
 * docs/benchmarks.md, "xmpp").
 */
const SOCKET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNREFUSED", "ETIMEDOUT", "ECONNABORTED"]);
let dropped = 0;
process.on("unhandledRejection", (reason) => {
  const code = (reason as { code?: unknown } | null)?.code;
  const name = (reason as { name?: unknown } | null)?.name;
  if ((typeof code === "string" && SOCKET_CODES.has(code)) || name === "TimeoutError") {
    dropped++;
    return;
  }
  process.stderr.write(`simulate-guard: unhandled rejection: ${(reason as Error)?.stack ?? String(reason)}\n`);
  process.exit(1);
});
process.on("exit", () => {
  if (dropped) process.stderr.write(`simulate-guard: dropped ${dropped} unhandled socket-error or timeout rejections of logins already counted as failed\n`);
});
// A TERM from the suite ends the simulator through exit(), so a CPU profile asked for with
// BENCH_XMPP_PROFILE is written (Bun writes it on exit, not when killed by a signal).
process.on("SIGTERM", () => process.exit(0));
