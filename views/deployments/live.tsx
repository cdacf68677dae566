/**
 * @module views/deployments/live
 * The output tail of a machine's running step on the follow page (inside its row, so
 * the row's live swap updates it), and the live batches in the machine's log. Lines the
 * agent left out show as "… n lines omitted …", never silently.
 */
import type { T } from "../../src/i18n/index.ts";
import type { LiveTail } from "../../src/features/deployments/live-output.ts";

/** The tail as text lines, markers translated. */
export function liveLines(t: T, lang: "fr" | "en", tail: LiveTail["lines"]): string[] {
  const nf = new Intl.NumberFormat(lang === "fr" ? "fr-FR" : "en-GB");
  return tail.map((l) => ("text" in l ? l.text : "omitted" in l ? t("deploy.live.omitted", { n: nf.format(l.omitted) }) : t("deploy.live.capped")));
}

export function LiveTailView(props: { t: T; lang: "fr" | "en"; targetId: number; tail: LiveTail }) {
  const lines = liveLines(props.t, props.lang, props.tail.lines);
  return (
    <div class="deploy-live" id={`deploy-live-${props.targetId}`} data-exec={String(props.tail.exec)}>
      <span class="muted small" safe>{props.t("deploy.live.title")}</span>
      <pre class="mono small" safe>{lines.join("\n")}</pre>
    </div>
  );
}

/**
 * A machine's log with its live output batches merged in by time (a batch applied in the
 * same millisecond as a log line goes first: it was sent before the step's end), and the
 * consecutive batches of one step execution joined into one entry.
 */
export function mergeLiveIntoLog(
  t: T,
  lang: "fr" | "en",
  logs: { at: number; kind: string; text: string; exit_code: number | null }[],
  live: { at: number; run_id: string; exec: number; step: number; omitted: number; capped: number; line_count: number; text: string }[],
): { at: number; kind: string; text: string; exitCode: number | null }[] {
  const out: { at: number; kind: string; text: string; exitCode: number | null; key?: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < logs.length || j < live.length) {
    const l = logs[i];
    const b = live[j];
    if (b && (!l || b.at <= l.at)) {
      j++;
      if (b.line_count === 0 && b.omitted === 0 && !b.capped) continue; // a step's start marker
      const key = `${b.run_id}/${b.exec}`;
      const lines = liveLines(t, lang, [
        ...(b.omitted > 0 ? [{ omitted: b.omitted }] : []),
        ...(b.line_count > 0 ? b.text.split("\n").map((text) => ({ text })) : []),
        ...(b.capped ? [{ capped: true as const }] : []),
      ]);
      const prev = out.at(-1);
      if (prev?.key === key) prev.text += `\n${lines.join("\n")}`;
      else out.push({ at: b.at, kind: "live", text: `${t("deploy.live.log", { step: b.step, exec: b.exec })}\n${lines.join("\n")}`, exitCode: null, key });
    } else {
      out.push({ at: l!.at, kind: l!.kind, text: l!.text, exitCode: l!.exit_code });
      i++;
    }
  }
  return out.map(({ key: _key, ...e }) => e);
}
