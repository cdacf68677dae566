/**
 * @module net/xmpp/xml-guard
 * A lexical check run over every character before ltx's tokenizer sees it. ltx is fast but
 * forgiving: it skips comments, DOCTYPEs and processing instructions, and reads a malformed
 * tag as best it can. RFC 6120 §11.1 restricts the XML a stream may carry (no comments, no
 * processing instructions, no DTD, no entity references but the five predefined ones), and a
 * server must say so (`restricted-xml`) rather than silently read on; broken tag syntax and
 * duplicate attributes are `not-well-formed`. The guard keeps only its lexical state between
 * chunks, and holds back the few characters whose meaning depends on what comes next; it
 * passes on only what it has checked, without the XML declaration (ltx loses track of a
 * declaration cut between two chunks). Pure: strings in, checked text or a fault out.
 */

export interface GuardFault {
  condition: "restricted-xml" | "not-well-formed";
  text: string;
}

const enum S {
  Text,
  TagOpen,
  TagName,
  TagSpace,
  AttrName,
  AttrEq,
  AttrQuote,
  AttrValue,
  SelfClose,
  EndSpace,
  CData,
  XmlDecl,
}

const PREDEFINED = new Set(["amp", "lt", "gt", "quot", "apos"]);
const MAX_REF = 64;
// XML 1.0 §2.2: characters a document may not contain at all.
const FORBIDDEN_CHARS = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
const isSpace = (c: string) => c === " " || c === "\n" || c === "\r" || c === "\t";
const isNameChar = (c: string) => !isSpace(c) && !"<>/=\"'&!?".includes(c);

const restricted = (text: string): GuardFault => ({ condition: "restricted-xml", text });
const malformed = (text: string): GuardFault => ({ condition: "not-well-formed", text });

export class XmlGuard {
  #state = S.Text;
  #carry = "";
  #quote = "";
  #isEnd = false;
  #hadSpace = false;
  #isProlog = true;
  #hasDeclaration = false;
  #attr = "";
  #attrs = new Set<string>();

  /** A new stream starts (after STARTTLS or SASL): the XML declaration is allowed again. */
  reset(): void {
    this.#state = S.Text;
    this.#carry = "";
    this.#isProlog = true;
    this.#hasDeclaration = false;
    this.#attrs.clear();
  }

  /**
   * Checks the next chunk of the stream. `text` is what may be parsed: all of it, or when
   * there is a `fault`, what came before the fault (so events keep their order).
   */
  check(chunk: string): { text: string; fault: GuardFault | null } {
    const bad = FORBIDDEN_CHARS.exec(chunk);
    const s = this.#carry + (bad ? chunk.slice(0, bad.index) : chunk);
    this.#carry = "";
    this.#out = "";
    this.#from = 0;
    this.#at = 0;
    const fault = this.#scan(s) ?? (bad ? malformed("a character that XML forbids") : null);
    if (fault) return { text: this.#out + s.slice(this.#from, Math.max(this.#from, this.#at)), fault };
    return { text: this.#out, fault: null };
  }

  #out = "";
  #from = 0;
  /** Where the scan is, for the text before a fault. */
  #at = 0;

  #scan(s: string): GuardFault | null {
    let i = 0;
    while (i < s.length) {
      this.#at = i;
      const c = s[i]!;
      switch (this.#state) {
        case S.Text: {
          const next = indexOfAny(s, i, "<&");
          if (this.#isProlog && /\S/.test(s.slice(i, next < 0 ? s.length : next))) return malformed("text before the stream");
          if (next < 0) {
            i = s.length;
            continue;
          }
          i = next;
          if (s[i] === "&") {
            const ref = this.#reference(s, i);
            if (typeof ref !== "number") return ref;
            if (ref < 0) return this.#wait(s, i);
            i = ref;
            continue;
          }
          // Decisions at '<' look ahead; make sure the '<' and what follows are in `s`.
          if (i + 1 >= s.length) return this.#wait(s, i);
          this.#state = S.TagOpen;
          i++;
          continue;
        }
        case S.TagOpen: {
          if (c === "/") {
            this.#state = S.TagName;
            this.#isEnd = true;
            i++;
          } else if (c === "!") {
            if (s.length - i < 8 && "![CDATA[".startsWith(s.slice(i))) return this.#wait(s, i - 1, S.Text);
            if (!s.startsWith("![CDATA[", i)) {
              const what = s.startsWith("!--", i) ? "comments are" : s.startsWith("!DOCTYPE", i) ? "DTDs are" : "markup declarations are";
              return restricted(`${what} not allowed in XMPP`);
            }
            this.#state = S.CData;
            i += 8;
          } else if (c === "?") {
            if (s.length - i < 5) return this.#wait(s, i - 1, S.Text);
            const isDeclaration = s.startsWith("?xml", i) && isSpace(s[i + 4]!);
            if (!isDeclaration || !this.#isProlog || this.#hasDeclaration) return restricted("processing instructions are not allowed in XMPP");
            this.#hasDeclaration = true;
            this.#state = S.XmlDecl;
            this.#out += s.slice(this.#from, i - 1);
            this.#from = s.length;
            i += 5;
          } else if (isNameChar(c)) {
            this.#state = S.TagName;
            this.#isEnd = false;
            this.#attrs.clear();
            this.#isProlog = false;
          } else return malformed("'<' must start a tag");
          continue;
        }
        case S.TagName: {
          if (isNameChar(c)) {
            i++;
            continue;
          }
          const isEnd = this.#isEnd;
          this.#hadSpace = isSpace(c);
          if (isSpace(c)) this.#state = isEnd ? S.EndSpace : S.TagSpace;
          else if (c === ">") this.#state = S.Text;
          else if (c === "/" && !isEnd) this.#state = S.SelfClose;
          else return malformed("bad character in a tag name");
          i++;
          continue;
        }
        case S.TagSpace:
        case S.EndSpace: {
          if (isSpace(c)) (this.#hadSpace = true), i++;
          else if (c === ">") (this.#state = S.Text), i++;
          else if (c === "/" && this.#state === S.TagSpace) (this.#state = S.SelfClose), i++;
          else if (isNameChar(c) && this.#state === S.TagSpace && this.#hadSpace) {
            this.#state = S.AttrName;
            this.#attr = "";
          } else return malformed(this.#state === S.EndSpace ? "an end tag has no attributes" : "bad attribute syntax");
          continue;
        }
        case S.AttrName: {
          if (isNameChar(c)) {
            this.#attr += c;
            if (this.#attr.length > 1024) return malformed("attribute name too long");
            i++;
            continue;
          }
          if (this.#attrs.has(this.#attr)) return malformed(`duplicate attribute ${this.#attr.slice(0, 64)}`);
          this.#attrs.add(this.#attr);
          this.#state = S.AttrEq;
          continue;
        }
        case S.AttrEq:
        case S.AttrQuote: {
          if (isSpace(c)) i++;
          else if (c === "=" && this.#state === S.AttrEq) (this.#state = S.AttrQuote), i++;
          else if ((c === '"' || c === "'") && this.#state === S.AttrQuote) {
            this.#quote = c;
            this.#state = S.AttrValue;
            i++;
          } else return malformed("an attribute needs a quoted value");
          continue;
        }
        case S.AttrValue: {
          const next = indexOfAny(s, i, `<&${this.#quote}`);
          if (next < 0) {
            i = s.length;
            continue;
          }
          i = next;
          if (s[i] === "<") return malformed("'<' inside an attribute value");
          if (s[i] === "&") {
            const ref = this.#reference(s, i);
            if (typeof ref !== "number") return ref;
            if (ref < 0) return this.#wait(s, i);
            i = ref;
            continue;
          }
          this.#state = S.TagSpace;
          this.#hadSpace = false;
          i++;
          continue;
        }
        case S.SelfClose: {
          if (c !== ">") return malformed("'/' must end a tag");
          this.#state = S.Text;
          i++;
          continue;
        }
        case S.CData: {
          const end = s.indexOf("]]>", i);
          if (end < 0) return this.#wait(s, Math.max(i, s.length - 2));
          this.#state = S.Text;
          i = end + 3;
          continue;
        }
        case S.XmlDecl: {
          const end = s.indexOf("?>", i);
          if (s.slice(i, end < 0 ? s.length : end).includes("<")) return malformed("'<' inside the XML declaration");
          if (end < 0) return this.#wait(s, Math.max(i, s.length - 1));
          this.#state = S.Text;
          i = end + 2;
          this.#from = i;
          continue;
        }
      }
    }
    this.#out += s.slice(this.#from);
    this.#from = s.length;
    return null;
  }

  /** Keeps what needs more input; its start is re-read with the next chunk. */
  #wait(s: string, from: number, state = this.#state): null {
    this.#carry = s.slice(from);
    this.#state = state;
    if (state !== S.XmlDecl && from > this.#from) this.#out += s.slice(this.#from, from);
    return null;
  }

  /**
   * Checks the reference at `s[i] === "&"`: the index after it when it is fine, -1 when the
   * chunk ends inside it, or the fault.
   */
  #reference(s: string, i: number): number | GuardFault {
    let semi = i + 1;
    while (semi < s.length && semi - i <= MAX_REF && /[\w#:.-]/.test(s[semi]!)) semi++;
    if (semi >= s.length && semi - i <= MAX_REF) return -1;
    if (s[semi] !== ";") return malformed("'&' must start an entity or character reference");
    const name = s.slice(i + 1, semi);
    if (PREDEFINED.has(name)) return semi + 1;
    const num = /^#(?:([0-9]{1,7})|x([0-9a-fA-F]{1,6}))$/.exec(name);
    if (num) {
      const code = num[1] ? Number(num[1]) : Number.parseInt(num[2]!, 16);
      const isChar = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
      return isChar ? semi + 1 : malformed("a character reference to a character that XML forbids");
    }
    if (/^[A-Za-z_:][\w.:-]*$/.test(name)) return restricted("entity references other than the five predefined ones are not allowed in XMPP");
    return malformed("'&' must start an entity or character reference");
  }
}

function indexOfAny(s: string, from: number, chars: string): number {
  for (let i = from; i < s.length; i++) if (chars.includes(s[i]!)) return i;
  return -1;
}
