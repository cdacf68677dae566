/**
 * @module agent/inventory/post
 * `POST /api/v1/agents/inventory` over HTTPS that trusts only the pinned CA, with the
 * agent's JID and password (HTTP basic auth), the body gzip-compressed JSON. The answer is
 * sorted into what the caller acts on: accepted (`{ "status": "ok", "changes": n }`), a
 * conflict (the server does not hold the inventory an `unchanged` post names: send it
 * whole), refused (any other 4xx: logged, never retried in a loop), or failed (network
 * error, timeout, 5xx, 429), which `postWithRetry` retries a bounded number of times with
 * exponential backoff and full jitter.
 */
import { backoffDelay, type BackoffOptions } from "../backoff.ts";

export const INVENTORY_PATH = "/api/v1/agents/inventory";

export interface PostTarget {
  /** The appliance's origin, https://host:port. */
  server: string;
  jid: string;
  password: string;
  /** The pinned CA, PEM: the only trust root. */
  ca: string;
  timeoutMs?: number;
}

export type PostOutcome =
  | { kind: "accepted"; changes?: number }
  | { kind: "conflict"; status: number; message: string }
  | { kind: "refused"; status: number; message: string }
  | { kind: "failed"; message: string };

async function errorText(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const e = (JSON.parse(text) as { error?: { message?: string } }).error;
    if (e?.message) return e.message;
  } catch {
    // not JSON
  }
  return text.slice(0, 200).replace(/\s+/g, " ").trim() || res.statusText;
}

/** One POST of an already serialised JSON body. */
export async function postInventory(json: string, t: PostTarget, signal?: AbortSignal): Promise<PostOutcome> {
  const timeout = AbortSignal.timeout(t.timeoutMs ?? 120_000);
  let res: Response;
  try {
    res = await fetch(new URL(INVENTORY_PATH, t.server), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "content-encoding": "gzip",
        accept: "application/json",
        authorization: `Basic ${Buffer.from(`${t.jid}:${t.password}`).toString("base64")}`,
      },
      body: Bun.gzipSync(Buffer.from(json, "utf8")),
      tls: { ca: t.ca },
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch (e) {
    return { kind: "failed", message: `cannot reach ${t.server}: ${(e as Error).message}` };
  }
  if (res.ok) {
    const body = (await res.json().catch(() => ({}))) as { status?: unknown; changes?: unknown };
    return { kind: "accepted", changes: typeof body.changes === "number" ? body.changes : undefined };
  }
  const message = await errorText(res);
  if (res.status === 409) return { kind: "conflict", status: 409, message };
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) return { kind: "refused", status: res.status, message };
  return { kind: "failed", message: `HTTP ${res.status}: ${message}` };
}

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts: number;
  backoff: BackoffOptions;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  signal: AbortSignal;
  onRetry?(attempt: number, delayMs: number, message: string): void;
}

/** 5 tries spread over up to ~1 + 2 + 4 + 8 minutes (full jitter). */
export const DEFAULT_RETRY = { attempts: 5, backoff: { baseMs: 60_000, capMs: 15 * 60_000 } };

export async function postWithRetry(send: () => Promise<PostOutcome>, o: RetryOptions): Promise<PostOutcome> {
  let outcome: PostOutcome = { kind: "failed", message: "not sent" };
  for (let attempt = 0; attempt < o.attempts && !o.signal.aborted; attempt++) {
    outcome = await send();
    if (outcome.kind !== "failed" || attempt === o.attempts - 1) return outcome;
    const delay = backoffDelay(attempt, o.backoff);
    o.onRetry?.(attempt + 1, delay, outcome.message);
    await o.sleep(delay, o.signal);
  }
  return outcome;
}
