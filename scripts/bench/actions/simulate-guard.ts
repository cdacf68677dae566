/**
 * @module scripts/bench/actions/simulate-guard
 * Preloaded into the simulator by the actions suite: the xmpp suite's guard
 * (../xmpp/simulate-guard.ts: stray rejections of failed logins), plus TLS handshake errors
 * that xmpp.js 0.14 emits on a socket wrapper nobody listens to yet — seen here as
 * TLSV1_ALERT_PROTOCOL_VERSION on a few connections while thousands log in on a loaded
 * machine — which would otherwise end the whole simulator. Those logins fail and are
 * retried by nobody: the suite measures over the agents that came online.
 */
import "../xmpp/simulate-guard.ts";

let dropped = 0;
process.on("uncaughtException", (err) => {
  const text = `${(err as { code?: unknown })?.code ?? ""} ${(err as Error)?.message ?? ""}`;
  if (/SSL|TLS|ECONNRESET|EPIPE/i.test(text)) {
    dropped++;
    return;
  }
  process.stderr.write(`simulate-guard: uncaught exception: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
process.on("exit", () => {
  if (dropped) process.stderr.write(`simulate-guard: dropped ${dropped} TLS errors of logins that failed\n`);
});
