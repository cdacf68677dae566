/**
 * @module account/qr
 * The QR code of an otpauth:// URI as inline SVG, drawn on the server (no script, no
 * image from elsewhere: the CSP stays strict). The `qrcode` package does the encoding
 * (versions, Reed-Solomon, masks: easy to get subtly wrong by hand); this module only
 * draws its matrix as one path of unit squares, with the 4-module quiet zone readers need.
 * The output holds nothing but numbers from the matrix, so views may insert it raw.
 */
import { create } from "qrcode";

const QUIET = 4;

export function qrSvg(text: string, opts: { pixels?: number; title?: string } = {}): string {
  const { size, data } = create(text, { errorCorrectionLevel: "M" }).modules;
  const side = size + 2 * QUIET;
  let d = "";
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      if (data[row * size + col]) d += `M${col + QUIET} ${row + QUIET}h1v1h-1z`;
    }
  }
  const pixels = opts.pixels ?? 200;
  const title = opts.title ? `<title>${escapeXml(opts.title)}</title>` : "";
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="qr" role="img" width="${pixels}" height="${pixels}" viewBox="0 0 ${side} ${side}" shape-rendering="crispEdges">` +
    `${title}<rect width="${side}" height="${side}" fill="#fff"/><path d="${d}" fill="#000"/></svg>`
  );
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
