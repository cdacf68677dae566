/**
 * @module web/events
 * One server-sent-events stream per browser tab (DESIGN.md "Live pages"): every live
 * update travels on it as a named event whose data is an HTML fragment rendered for that
 * tab's user and language. Publishers are periodic sources (live widgets) and features
 * calling `publish`. A comment line every 25 s keeps proxies from closing the stream.
 */
import type { Grantee } from "../access.ts";
import type { Clock } from "../clock.ts";

export interface Subscriber {
  user: Grantee;
  lang: "fr" | "en";
  send(event: string, html: string): void;
}

export interface Source {
  event: string;
  everyMs: number;
  /** The fragment for one subscriber, or null when it may not see it. */
  render(sub: Subscriber): Promise<string | null> | string | null;
}

export function encodeEvent(event: string, data: string): string {
  // Each line of data gets its own "data:" field; a bare newline would end the event.
  return `event: ${event}\n${data.split(/\r\n|\r|\n/).map((l) => `data: ${l}`).join("\n")}\n\n`;
}

export class EventHub {
  readonly #subs = new Set<Subscriber & { close(): void }>();
  readonly #sources: Source[] = [];
  readonly #timers = new Map<Source, () => void>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.#subs.size;
  }

  addSource(source: Source): void {
    this.#sources.push(source);
  }

  /** Sends `event` to every subscriber for whom `render` returns a fragment. */
  async publish(event: string, render: (sub: Subscriber) => Promise<string | null> | string | null): Promise<void> {
    for (const sub of this.#subs) {
      const html = await render(sub);
      if (html !== null) sub.send(event, html);
    }
  }

  /** A `text/event-stream` response for one tab; the current state of every source is sent first. */
  stream(user: Grantee, lang: "fr" | "en", signal: AbortSignal): Response {
    const encoder = new TextEncoder();
    let sub: (Subscriber & { close(): void }) | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        let open = true;
        const write = (text: string) => {
          if (!open) return;
          try {
            controller.enqueue(encoder.encode(text));
          } catch {
            close();
          }
        };
        const close = () => {
          if (!open) return;
          open = false;
          stopBeat();
          if (sub) this.#subs.delete(sub);
          this.#rearm();
          try {
            controller.close();
          } catch {
            // already closed by the client
          }
        };
        const beat = () => {
          write(": keep-alive\n\n");
          stopBeat = this.clock.setTimer(25_000, beat);
        };
        let stopBeat = this.clock.setTimer(25_000, beat);
        sub = { user, lang, send: (event, html) => write(encodeEvent(event, html)), close };
        this.#subs.add(sub);
        signal.addEventListener("abort", close);
        write("retry: 3000\n\n");
        for (const source of this.#sources) void this.#sendOne(source, sub);
        this.#rearm();
      },
      cancel: () => sub?.close(),
    });
    return new Response(body, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" },
    });
  }

  closeAll(): void {
    for (const sub of [...this.#subs]) sub.close();
  }

  async #sendOne(source: Source, sub: Subscriber): Promise<void> {
    const html = await source.render(sub);
    if (html !== null) sub.send(source.event, html);
  }

  /** Sources tick only while someone listens. */
  #rearm(): void {
    for (const source of this.#sources) {
      const running = this.#timers.has(source);
      if (this.#subs.size > 0 && !running) {
        const tick = () => {
          void this.publish(source.event, (sub) => source.render(sub));
          this.#timers.set(source, this.clock.setTimer(source.everyMs, tick));
        };
        this.#timers.set(source, this.clock.setTimer(source.everyMs, tick));
      } else if (this.#subs.size === 0 && running) {
        this.#timers.get(source)!();
        this.#timers.delete(source);
      }
    }
  }
}
