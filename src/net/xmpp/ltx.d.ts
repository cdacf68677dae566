/**
 * The part of ltx 3.1 (the XML library of xmpp.js) that the relay uses; ltx ships no types.
 * `Element` is the stanza tree; `SaxLtx` is its incremental tokenizer, which the codec wraps.
 */
declare module "ltx" {
  export type Node = Element | string;
  export class Element {
    constructor(name: string, attrs?: Record<string, string | number | undefined>);
    name: string;
    parent: Element | null;
    children: Node[];
    attrs: Record<string, string>;
    is(name: string, xmlns?: string): boolean;
    getName(): string;
    getNS(): string | undefined;
    getAttr(name: string): string | undefined;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getText(): string;
    getChildText(name: string, xmlns?: string): string | null;
    c(name: string, attrs?: Record<string, string | number | undefined>): Element;
    cnode(child: Element): Element;
    append(...nodes: Node[]): void;
    t(text: string): Element;
    up(): Element;
    root(): Element;
    attr(name: string, value?: string | null): string | undefined | Element;
    toString(): string;
  }
  export function escapeXML(s: string): string;
  export function escapeXMLText(s: string): string;
}

declare module "ltx/src/parsers/ltx.js" {
  import type { EventEmitter } from "node:events";
  export default class SaxLtx extends EventEmitter {
    write(data: string): void;
    end(data?: string): void;
  }
}
