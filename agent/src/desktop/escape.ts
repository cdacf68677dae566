/**
 * @module agent/desktop/escape
 * Text from a package descriptor is user input: before it reaches a dialog tool it is made
 * inert for that tool. Every function here returns text the tool shows literally, whatever
 * quotes, markup, newlines or `$(...)` it holds (no shell is ever involved: commands are
 * argument vectors; scripts are files whose strings are single-quoted or escaped).
 */

/** Control characters a dialog never needs (keeps newlines and tabs); NUL cannot pass in argv. */
export function clean(text: string, max = 2000): string {
  // eslint-disable-next-line no-control-regex
  const s = text.replace(/\r\n?/g, "\n").replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "");
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Pango markup (zenity --text, notify-send bodies, kdialog's rich text): the five XML entities. */
export function markup(text: string): string {
  return clean(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** A GTK button label: an underscore would be taken as a mnemonic marker, so it is doubled. */
export function gtkLabel(text: string): string {
  return clean(text, 60).replace(/\n/g, " ").replace(/_/g, "__");
}

/** A one-line title (window titles, notification summaries). */
export function oneLine(text: string, max = 200): string {
  return clean(text, max).replace(/\s*\n\s*/g, " ");
}

/**
 * A PowerShell single-quoted string literal. Inside '…' nothing is expanded ($var, $(…),
 * backticks); the only special characters are the quote marks, and PowerShell accepts the
 * typographic single quotes (U+2018–U+201B) as quotes too, so each is doubled.
 */
export function psString(text: string, max = 2000): string {
  return `'${clean(text, max).replace(/['\u2018\u2019\u201a\u201b]/g, (q) => q + q)}'`;
}

/** An AppleScript string literal: backslash and double quote escaped, line breaks as \n. */
export function appleScriptString(text: string, max = 2000): string {
  return `"${clean(text, max).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\t/g, "\\t")}"`;
}
