/**
 * @module views/shell/list-head
 * The top of a list page: its title, the "add" button when the user may add, a notice
 * after a save, and the search box that reloads the list fragment as one types.
 */
import { Alert, when } from "./layout.tsx";

export interface ListHeadProps {
  title: string;
  /** The list's route; also where the search goes. */
  path: string;
  /** The id of the fragment the search replaces. */
  tableId: string;
  search: string;
  searchLabel: string;
  add?: { href: string; label: string };
  notice?: string;
}

export function ListHead(props: ListHeadProps) {
  const inputId = `${props.tableId}-search`;
  return (
    <>
      <div class="page-head">
        <h1 safe>{props.title}</h1>
        {when(props.add, () => (
          <a class="button primary" href={props.add!.href} safe>
            {props.add!.label}
          </a>
        ))}
      </div>
      {when(props.notice, () => <Alert kind="success" text={props.notice!} />)}
      <div class="toolbar">
        <label for={inputId} class="visually-hidden" safe>
          {props.searchLabel}
        </label>
        <input
          id={inputId}
          type="search"
          name="q"
          value={props.search}
          placeholder={props.searchLabel}
          hx-get={props.path}
          hx-trigger="input changed delay:300ms, search"
          hx-target={`#${props.tableId}`}
          hx-swap="outerHTML"
          hx-push-url="true"
        />
      </div>
    </>
  );
}
