/**
 * @module machine-groups/actions
 * Group actions at scale (SPEC C4): a small registry other features add to. An action has
 * an id, a label, the permission it needs (checked on top of `machinegroups.view`), and a
 * handler that receives the ids of the group's members the user may see. The group page
 * shows a button per action the user may run; `POST /machine-groups/:id/actions/:action`
 * (and the same under /api/v1) runs it and records it in the history.
 *
 * To add one from another feature, after `registerMachineGroups` returned `groupActions`:
 *
 *     groupActions.register({
 *       id: "reboot", label: "quickactions.reboot", permission: "quickactions.run",
 *       run: async ({ viewer, machineIds, ip }) => ({ count: (await reboot(viewer, machineIds, ip)).length }),
 *     });
 *
 * `run` returns `{ count, message? }` (shown to the user), or a Response of its own (a
 * download, a redirect to a follow-up page). Export CSV is registered here.
 */
import type { MessageKey } from "../../i18n/index.ts";
import type { Viewer } from "../entities/service.ts";

export interface GroupActionContext {
  viewer: Viewer;
  groupId: number;
  groupName: string;
  /** Members of the group in the viewer's entities, ascending. */
  machineIds: number[];
  ip: string;
  lang: "fr" | "en";
}

export interface GroupActionResult {
  count: number;
  /** Shown instead of the default "started on N machines". */
  message?: string;
}

export interface GroupAction {
  id: string;
  label: MessageKey;
  permission: string;
  /** "download": a plain link (GET) that returns a file; "post": a button with confirmation. */
  kind: "download" | "post";
  /** Asked before running a "post" action. */
  confirm?: MessageKey;
  order?: number;
  run(ctx: GroupActionContext): Promise<GroupActionResult | Response> | GroupActionResult | Response;
}

export function createGroupActions() {
  const actions = new Map<string, GroupAction>();
  return {
    register(action: GroupAction): void {
      if (!/^[a-z][a-z0-9-]{0,40}$/.test(action.id)) throw new Error(`group action id "${action.id}" must be lowercase letters, digits and dashes`);
      if (actions.has(action.id)) throw new Error(`group action ${action.id} registered twice`);
      actions.set(action.id, action);
    },
    get: (id: string) => actions.get(id) ?? null,
    all: () => [...actions.values()].sort((a, b) => (a.order ?? 100) - (b.order ?? 100) || a.id.localeCompare(b.id)),
  };
}

export type GroupActions = ReturnType<typeof createGroupActions>;
