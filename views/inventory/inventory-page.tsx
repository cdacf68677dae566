/**
 * @module views/inventory/inventory-page
 * A machine's inventory: the page head (last inventory, its source, a stale badge, the
 * "request inventory" button), the tab bar and the open tab's panel. The tab bar and the
 * panel are one fragment (`#inventory-tabs`): a tab link swaps it and pushes its URL, so
 * the address always names the tab shown and a reload or a shared link opens the same one.
 * A machine without inventory gets an explanatory empty state instead of tabs. The request
 * button shows only to users who may request inventories.
 */
import type { Children } from "@kitajs/html";
import type { T } from "../../src/i18n/index.ts";
import { when } from "../shell/layout.tsx";
import { StateBadge } from "../machines/computers.tsx";

export const TABS = ["summary", "hardware", "software", "network", "storage", "history"] as const;
export type Tab = (typeof TABS)[number];

export interface InventoryMachine {
  id: number;
  hostname: string;
  online: boolean;
  banned: boolean;
}

export interface LastInventory {
  date: string;
  source: string;
  isStale: boolean;
}

export const inventoryHref = (id: number, tab: Tab, extra: Record<string, string> = {}) => {
  const p = new URLSearchParams({ tab, ...extra });
  for (const [k, v] of [...p]) if (v === "") p.delete(k);
  return `/computers/${id}/inventory?${p}`;
};

/**
 * Asks the agent for an inventory now; the answer (accepted, refused) lands in the status
 * beside the button, an error (machine offline) in the page's flash area.
 */
export function RequestButton(props: { t: T; id: number; primary?: boolean }) {
  return (
    <span class="inventory-request">
      <button type="button" class={props.primary ? "primary" : undefined} hx-post={`/computers/${props.id}/inventory/request`} hx-target="#inventory-request-status" hx-swap="innerHTML" safe>
        {props.t("inv.request")}
      </button>
      <span id="inventory-request-status" role="status"></span>
    </span>
  );
}

/** The answer to a request, in the status beside the button. */
export function RequestStatus(props: { kind: "success" | "error"; text: string }) {
  return (
    <span class={`request-${props.kind}`} safe>
      {props.text}
    </span>
  );
}

export function InventoryPage(props: { t: T; machine: InventoryMachine; last: LastInventory | null; canRequest: boolean; tab: Tab; children?: Children }) {
  const { t, machine: m } = props;
  return (
    <section class="stack inventory" data-live-page>
      <div class="page-head">
        <h1 safe>{t("inv.title", { name: m.hostname })}</h1>
        <StateBadge t={t} id={m.id} online={m.online} banned={m.banned} />
        <a class="button" href={`/computers/${m.id}`} safe>
          {t("inv.back")}
        </a>
        {when(props.canRequest && props.last, () => <RequestButton t={t} id={m.id} />)}
      </div>
      {when(props.last, () => (
        <p class="muted inventory-last">
          <span safe>{t("inv.last", { date: props.last!.date, source: props.last!.source })}</span>
          {when(props.last!.isStale, () => (
            <span class="badge badge-stale" safe>
              {t("inv.stale")}
            </span>
          ))}
        </p>
      ))}
      {props.last ? (
        <InventoryTabs t={t} id={m.id} tab={props.tab}>
          {props.children}
        </InventoryTabs>
      ) : (
        <div class="empty-state inventory-empty">
          <p safe>{t("inv.empty")}</p>
          <p class="small" safe>
            {t("inv.emptyHint")}
          </p>
          {when(props.canRequest, () => <RequestButton t={t} id={m.id} primary />)}
        </div>
      )}
    </section>
  );
}

/** The fragment a tab link replaces: the tab bar (current tab marked) and its panel. */
export function InventoryTabs(props: { t: T; id: number; tab: Tab; children?: Children }) {
  const { t } = props;
  return (
    <div id="inventory-tabs">
      <nav class="tabs" aria-label={t("inv.tabs")}>
        {TABS.map((tab) => (
          <a
            href={inventoryHref(props.id, tab)}
            hx-get={inventoryHref(props.id, tab)}
            hx-target="#inventory-tabs"
            hx-swap="outerHTML"
            hx-push-url="true"
            aria-current={tab === props.tab ? "page" : undefined}
            data-tab={tab}
            safe
          >
            {t(`inv.tab.${tab}`)}
          </a>
        ))}
      </nav>
      <section class="tab-panel" data-panel={props.tab}>
        {props.children}
      </section>
    </div>
  );
}

/** A table's empty state inside a tab. */
export function Nothing(props: { t: T }) {
  return (
    <p class="muted" safe>
      {props.t("inv.nothing")}
    </p>
  );
}
