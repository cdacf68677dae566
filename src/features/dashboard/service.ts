/**
 * @module dashboard/service
 * Dashboard layouts: which widgets a user sees, in what order, at what size, hidden or
 * not. A saved layout is merged with the widgets that exist now: new widgets appear at
 * the end at their default size, withdrawn ones drop out.
 */
import type { Database } from "bun:sqlite";
import type { Clock } from "../../clock.ts";
import { Invalid } from "../../errors.ts";
import type { WidgetDef } from "../../registry.ts";
import { dashboardRepo } from "./repo.ts";

export interface LayoutItem {
  id: string;
  w: number;
  h: number;
  hidden: boolean;
}

const MAX_SPAN = 4;

function isSpan(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_SPAN;
}

/** Checks a layout sent by a browser; throws `Invalid` naming what is wrong. */
export function parseLayout(input: unknown, known: ReadonlySet<string>): LayoutItem[] {
  const list = (input as { widgets?: unknown })?.widgets;
  if (!Array.isArray(list) || list.length > 100) throw new Invalid({ widgets: "error.invalid" });
  const seen = new Set<string>();
  return list.map((raw) => {
    const item = raw as Partial<LayoutItem>;
    if (typeof item?.id !== "string" || !known.has(item.id) || seen.has(item.id)) throw new Invalid({ widgets: "error.invalid" });
    if (!isSpan(item.w) || !isSpan(item.h) || typeof item.hidden !== "boolean") throw new Invalid({ widgets: "error.invalid" });
    seen.add(item.id);
    return { id: item.id, w: item.w, h: item.h, hidden: item.hidden };
  });
}

export function createDashboardService(deps: { db: Database; clock: Clock }) {
  const repo = dashboardRepo(deps.db);
  return {
    /** The user's layout over the widgets it may see, in display order. */
    layoutFor(userId: number, widgets: readonly WidgetDef[]): LayoutItem[] {
      const byId = new Map(widgets.map((w) => [w.id, w]));
      let saved: LayoutItem[] = [];
      const raw = repo.findLayout(userId);
      if (raw) {
        try {
          saved = parseLayout({ widgets: JSON.parse(raw) }, new Set(byId.keys()));
        } catch {
          saved = []; // a layout naming withdrawn widgets: start again from defaults
        }
      }
      const placed = saved.filter((s) => byId.has(s.id));
      const ids = new Set(placed.map((p) => p.id));
      const fresh = [...widgets]
        .filter((w) => !ids.has(w.id))
        .sort((a, b) => a.order - b.order)
        .map((w) => ({ id: w.id, w: w.size.w, h: w.size.h, hidden: false }));
      return [...placed, ...fresh];
    },

    saveLayout(userId: number, input: unknown, widgets: readonly WidgetDef[]): LayoutItem[] {
      const layout = parseLayout(input, new Set(widgets.map((w) => w.id)));
      repo.saveLayout(userId, JSON.stringify(layout), deps.clock.now());
      return layout;
    },

    resetLayout(userId: number): void {
      repo.deleteLayout(userId);
    },
  };
}
