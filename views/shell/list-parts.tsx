/**
 * @module views/shell/list-parts
 * Pieces every list fragment shares: what a list says when it has nothing to show (nothing
 * yet, or nothing matching the search), and the "more" link that loads the next page into
 * the fragment and keeps the address in step (so Back returns to the previous page).
 */
import { when } from "./layout.tsx";

/** An empty list: `empty` when there is nothing at all, `noMatch` when a search found nothing. */
export function EmptyList(props: { id?: string; search: string; empty: string; noMatch: string }) {
  return (
    <div id={props.id} class="empty-state" safe>
      {props.search ? props.noMatch : props.empty}
    </div>
  );
}

/** The pager under a list: a link to the next page when there is one. */
export function MorePager(props: { href: string | null; target: string; label: string }) {
  return when(props.href !== null, () => (
    <nav class="pager">
      <a href={props.href!} hx-get={props.href!} hx-target={props.target} hx-swap="outerHTML" hx-push-url="true" safe>
        {props.label}
      </a>
    </nav>
  ));
}
