/**
 * @module registry
 * The one place where features declare what they add to the product: permission keys
 * (grouped by category for the ACL editor), routes and the key each needs, menu entries
 * and dashboard widgets. The sidebar, the ACL editor, the route guard and the
 * "403 for everything without the right" test all read this, so none can drift.
 */
import type { MessageKey } from "./i18n/index.ts";

export interface PermissionDef {
  key: string;
  category: MessageKey;
  label: MessageKey;
}

/** `null` permission: any signed-in user; `"public"`: no sign-in needed. */
export type RoutePermission = string | null | "public";

export interface RouteDef {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  permission: RoutePermission;
  kind: "page" | "fragment" | "action" | "api" | "stream" | "asset";
}

export interface MenuEntry {
  id: string;
  section: MessageKey;
  label: MessageKey;
  href: string;
  /** Shown only to users holding this key, or any one of these keys (any signed-in user when null). */
  permission: string | readonly string[] | null;
  order: number;
}

/**
 * Menu entries that depend on the user (favourite groups): asked for at every page; the
 * source checks what the user may see itself. `label` is already in the reader's words.
 */
export type MenuSource = (user: { id: number; isSuper: boolean }, t: WidgetContext["t"]) => { section: MessageKey; label: string; href: string; order: number }[];

export interface WidgetContext {
  t: (key: MessageKey, params?: Record<string, string | number>) => string;
  lang: "fr" | "en";
  userId: number;
  isSuper: boolean;
}

export interface WidgetDef {
  id: string;
  title: MessageKey;
  permission: string | null;
  /** Default size in grid cells: 1–4 columns wide, 1–4 rows high. */
  size: { w: number; h: number };
  order: number;
  /** The widget's body as HTML (escaped by the view). */
  render(ctx: WidgetContext): string | Promise<string>;
  /** When set, the body is re-rendered and pushed over server-sent events every `everyMs`. */
  live?: { everyMs: number };
}

export class Registry {
  readonly permissions = new Map<string, PermissionDef>();
  readonly routes: RouteDef[] = [];
  readonly menu: MenuEntry[] = [];
  readonly widgets = new Map<string, WidgetDef>();
  readonly menuSources: MenuSource[] = [];

  permission(def: PermissionDef): string {
    if (this.permissions.has(def.key)) throw new Error(`permission ${def.key} declared twice`);
    this.permissions.set(def.key, def);
    return def.key;
  }

  route(def: RouteDef): void {
    if (def.permission && def.permission !== "public" && !this.permissions.has(def.permission)) {
      throw new Error(`route ${def.method} ${def.path} needs undeclared permission ${def.permission}`);
    }
    this.routes.push(def);
  }

  menuEntry(entry: MenuEntry): void {
    this.menu.push(entry);
    this.menu.sort((a, b) => a.order - b.order);
  }

  menuSource(source: MenuSource): void {
    this.menuSources.push(source);
  }

  widget(def: WidgetDef): void {
    if (this.widgets.has(def.id)) throw new Error(`widget ${def.id} declared twice`);
    this.widgets.set(def.id, def);
  }

  /** Permission keys grouped by category, in declaration order: the ACL editor's rows. */
  permissionsByCategory(): Map<MessageKey, PermissionDef[]> {
    const out = new Map<MessageKey, PermissionDef[]>();
    for (const p of this.permissions.values()) out.set(p.category, [...(out.get(p.category) ?? []), p]);
    return out;
  }
}
