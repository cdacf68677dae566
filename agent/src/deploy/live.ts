/**
 * @module agent/deploy/live
 * A running step's output, sent while it runs: the text the process writes (stdout and
 * stderr, each cut into lines on its own) becomes batches `{ from, lines }`
 * (src/protocol/actions.ts LiveOutputBatch), each handed to `emit`, which the runner turns
 * into a numbered `deployevent` (kept on disk until acknowledged, like every event).
 *
 * A batch leaves when `flushMs` passed since its first line, or when it holds
 * `flushLines` lines, whichever comes first. The cap per step keeps what the final record
 * keeps, the start and the end: the first `headLines` lines are all sent; after them only
 * the newest `tailLines` of each batch (the lines in between are counted, not sent: the
 * server sees the gap in line numbers and writes "… n lines omitted …"); once `maxLines`
 * lines were sent in all, one last batch says `capped` and nothing more goes until the
 * step ends (its final record has the last lines). Time comes from an injected timer.
 */
import type { LiveOutputBatch } from "../../../src/protocol/actions.ts";

export const LIVE = { flushMs: 750, flushLines: 50, headLines: 100, tailLines: 10, maxLines: 600, lineChars: 500, batchChars: 12_000 };
export type LiveLimits = typeof LIVE;

/** Starts a one-shot timer; returns its cancel. */
export type SetTimer = (ms: number, fn: () => void) => () => void;
export const realTimer: SetTimer = (ms, fn) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

type Batch = Omit<LiveOutputBatch, "exec" | "step">;

export class LiveOutput {
  /** Lines the step wrote so far (complete ones). */
  #produced = 0;
  /** Lines sent so far. */
  #sent = 0;
  /** Lines waiting, with their numbers, in order (contiguous). */
  #pending: { no: number; text: string }[] = [];
  #pendingChars = 0;
  #partial: Record<"stdout" | "stderr", string> = { stdout: "", stderr: "" };
  #cancel: (() => void) | null = null;
  #capped = false;
  #ended = false;

  constructor(
    private readonly emit: (batch: Batch) => void,
    private readonly setTimer: SetTimer = realTimer,
    private readonly limits: LiveLimits = LIVE,
  ) {}

  get produced(): number {
    return this.#produced;
  }

  /** Text the process wrote on one of its streams (any size, any cut). */
  write(text: string, stream: "stdout" | "stderr" = "stdout"): void {
    if (this.#ended || !text) return;
    const all = (this.#partial[stream] + text).replace(/\r\n/g, "\n");
    const parts = all.split("\n");
    this.#partial[stream] = parts.pop()!;
    // A line without end that grows past any reason is cut into lines of its own.
    while (this.#partial[stream].length > this.limits.lineChars * 4) {
      parts.push(this.#partial[stream].slice(0, this.limits.lineChars));
      this.#partial[stream] = this.#partial[stream].slice(this.limits.lineChars);
    }
    for (const line of parts) this.#line(line);
  }

  /** The step ended: what is left goes now, and nothing after. */
  end(): void {
    if (this.#ended) return;
    for (const s of ["stdout", "stderr"] as const) {
      if (this.#partial[s]) this.#line(this.#partial[s]);
      this.#partial[s] = "";
    }
    this.flush();
    this.#ended = true;
  }

  #line(raw: string): void {
    const no = this.#produced++;
    if (this.#capped) return;
    const text = raw.length > this.limits.lineChars ? `${raw.slice(0, this.limits.lineChars)}…` : raw;
    const inHead = this.#sent + this.#pending.length < this.limits.headLines;
    if (!inHead && this.#pending.length && this.#sent < this.limits.headLines) {
      // The head is complete: it leaves on its own, the tail starts a new batch.
      this.flush();
    }
    if (inHead) {
      this.#pending.push({ no, text });
      this.#pendingChars += text.length;
    } else {
      // Past the head: only the newest lines of the batch are kept (contiguous, ending now).
      this.#pending.push({ no, text });
      this.#pendingChars += text.length;
      while (this.#pending.length > this.limits.tailLines) this.#pendingChars -= this.#pending.shift()!.text.length;
    }
    const full = inHead && (this.#pending.length >= this.limits.flushLines || this.#pendingChars >= this.limits.batchChars || this.#sent + this.#pending.length >= this.limits.maxLines);
    if (full) this.flush();
    else if (!this.#cancel) this.#cancel = this.setTimer(this.limits.flushMs, () => ((this.#cancel = null), this.flush()));
  }

  /** Sends what waits (the timer, a full batch, the end). */
  flush(): void {
    this.#cancel?.();
    this.#cancel = null;
    if (this.#ended || this.#capped) return;
    // Never past the cap: the newest lines of the batch are the ones kept.
    const lines = this.#pending.slice(-Math.max(0, this.limits.maxLines - this.#sent));
    this.#pending = [];
    this.#pendingChars = 0;
    if (lines.length) {
      this.#sent += lines.length;
      this.emit({ from: lines[0]!.no, lines: lines.map((l) => l.text) });
    }
    if (this.#sent >= this.limits.maxLines) {
      this.#capped = true;
      this.emit({ from: this.#produced, lines: [], capped: true });
    }
  }
}
