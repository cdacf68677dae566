/**
 * @module inventory/xml
 * A small, safe XML reader for inventories posted by FusionInventory and OCS-style agents:
 * bytes in, a tree of elements and text out, or an `InventoryError` saying what is wrong.
 * Safe means: no DTD, no entity declarations, no references but the five predefined ones
 * and character references (so no "billion laughs" expansion and no external entity can
 * read a file or a URL); comments are skipped; nesting, element count and size are
 * bounded. The lexical check is the relay's (`xml-guard.ts`, run over the whole text),
 * the tokenizer is ltx's. Encodings: the declared one (ISO-8859-1 and Windows-1252 are
 * common on Windows agents), UTF-16 by its byte-order mark, and a document that declares
 * UTF-8 but is not is read as Windows-1252 rather than refused.
 */
import SaxLtx from "ltx/src/parsers/ltx.js";
import { XmlGuard } from "../../net/xmpp/xml-guard.ts";
import { InventoryError, LIMITS } from "./normalized.ts";

export interface XmlNode {
  name: string;
  children: XmlNode[];
  text: string;
}

export interface DecodedXml {
  text: string;
  /** The encoding the text was read with. */
  encoding: string;
  /** Declared UTF-8 (or nothing) but was not valid UTF-8: read as Windows-1252. */
  isRecovered: boolean;
}

export function decodeXml(bytes: Uint8Array): DecodedXml {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  else if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: new TextDecoder("utf-16le").decode(bytes.subarray(2)), encoding: "utf-16le", isRecovered: false };
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) return { text: new TextDecoder("utf-16be").decode(bytes.subarray(2)), encoding: "utf-16be", isRecovered: false };
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 256));
  const declared = /^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']/.exec(head)?.[1]?.toLowerCase() ?? "utf-8";
  if (declared !== "utf-8" && declared !== "utf8") {
    let decoder: TextDecoder;
    try {
      decoder = new TextDecoder(declared);
    } catch {
      throw new InventoryError("unsupported", `unsupported XML encoding "${declared}"`);
    }
    return { text: decoder.decode(bytes), encoding: decoder.encoding, isRecovered: false };
  }
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), encoding: "utf-8", isRecovered: false };
  } catch {
    return { text: new TextDecoder("windows-1252").decode(bytes), encoding: "windows-1252", isRecovered: true };
  }
}

const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g;

/** The guard's wording is XMPP's; an inventory's reader needs to know what to change. */
function faultReason(text: string): string {
  if (/DTD/.test(text)) return "DOCTYPE and DTDs are not accepted (no entity expansion, no external entities)";
  if (/markup declarations/.test(text)) return "markup declarations (ENTITY, ELEMENT, ...) are not accepted";
  if (/entity references other/.test(text)) return "entity references other than &amp; &lt; &gt; &quot; &apos; are not accepted";
  if (/processing instructions/.test(text)) return "processing instructions are not accepted";
  return text.replace(/ in XMPP$/, "").replace(/the stream/g, "the root element");
}

/** Parses a whole XML document into a tree; throws `InventoryError` on anything unsafe or malformed. */
export function parseXml(bytes: Uint8Array): { root: XmlNode; decoded: DecodedXml } {
  if (bytes.length > LIMITS.documentBytes) throw new InventoryError("too_large", `the XML document is larger than ${LIMITS.documentBytes >> 20} MiB`);
  const decoded = decodeXml(bytes);
  // Comments carry nothing we read and the guard refuses them: drop them first. Stray
  // control characters (seen in Windows software names) are dropped rather than refused.
  const source = decoded.text.replace(/^\uFEFF/, "").replace(/<!--[\s\S]*?-->/g, "").replace(FORBIDDEN, "");
  const checked = new XmlGuard().check(source);
  if (checked.fault) {
    throw new InventoryError(checked.fault.condition === "restricted-xml" ? "restricted_xml" : "malformed", `XML refused: ${faultReason(checked.fault.text)}`);
  }

  const stack: XmlNode[] = [];
  // Assigned by the tokenizer's callbacks: typed by cast so that TypeScript does not narrow them to null.
  let root = null as XmlNode | null;
  let elements = 0;
  let problem = null as InventoryError | null;
  const fail = (kind: "malformed" | "too_large", reason: string) => {
    problem ??= new InventoryError(kind, reason);
  };
  const sax = new SaxLtx();
  sax.on("startElement", (name: string) => {
    if (problem) return;
    if (root && stack.length === 0) return fail("malformed", "XML: content after the root element");
    if (stack.length >= LIMITS.xmlDepth) return fail("too_large", `XML nested deeper than ${LIMITS.xmlDepth} levels`);
    if (++elements > LIMITS.xmlElements) return fail("too_large", `more than ${LIMITS.xmlElements} XML elements`);
    const node: XmlNode = { name, children: [], text: "" };
    if (stack.length) stack.at(-1)!.children.push(node);
    else root = node;
    stack.push(node);
  });
  sax.on("endElement", (name: string) => {
    if (problem) return;
    const open = stack.pop();
    if (!open || open.name !== name) fail("malformed", `XML: </${name.slice(0, 64)}> does not close <${(open?.name ?? "nothing").slice(0, 64)}>`);
  });
  sax.on("text", (text: string) => {
    if (problem) return;
    if (stack.length) stack.at(-1)!.text += text;
    else if (/\S/.test(text)) fail("malformed", "XML: text outside the root element");
  });
  try {
    sax.write(checked.text);
  } catch (err) {
    fail("malformed", `XML: ${(err as Error).message.slice(0, 120)}`);
  }
  if (problem) throw problem;
  if (!root) throw new InventoryError("malformed", "XML: no root element (empty or truncated document)");
  if (stack.length) throw new InventoryError("malformed", `XML truncated: <${stack.at(-1)!.name.slice(0, 64)}> is not closed`);
  return { root, decoded };
}
