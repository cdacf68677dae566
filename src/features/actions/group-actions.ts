/**
 * @module actions/group-actions
 * The actions of this feature offered on a machine group's page (machine-groups' registry):
 * remote reboot and Wake-on-LAN act at once on the group's visible members (confirmed
 * first); "run a quick action" opens the quick actions with the group's members ticked.
 * Kept apart from index.tsx so that the actions feature does not depend on machine groups:
 * app.ts calls this once both are registered.
 */
import { translator } from "../../i18n/index.ts";
import type { GroupActionContext, GroupActionResult, GroupAction } from "../machine-groups/actions.ts";
import type { registerActions } from "./index.tsx";

type Actions = ReturnType<typeof registerActions>;

export function registerMachineGroupActions(registry: { register(a: GroupAction): void }, actions: Actions): void {
  registry.register({
    id: "reboot", label: "actions.group.reboot", permission: actions.perms.power, kind: "post", confirm: "actions.group.rebootConfirm", order: 30,
    run: async (c: GroupActionContext): Promise<GroupActionResult> => {
      const out = await actions.power(c.viewer, c.machineIds, "reboot", c.ip);
      const ok = out.filter((o) => o.ok).length;
      return { count: ok, message: translator(c.lang)("actions.group.rebootDone", { ok, total: out.length }) };
    },
  });
  registry.register({
    id: "wake", label: "actions.group.wake", permission: actions.perms.wake, kind: "post", confirm: "actions.group.wakeConfirm", order: 31,
    run: async (c: GroupActionContext): Promise<GroupActionResult> => {
      const out = await actions.wol.wake(c.viewer, c.machineIds, c.ip);
      const sent = out.filter((o) => o.sent > 0 && !o.error).length;
      return { count: sent, message: translator(c.lang)("actions.group.wakeDone", { sent, total: c.machineIds.length }) };
    },
  });
  registry.register({
    id: "quick-action", label: "actions.group.quickAction", permission: actions.perms.run, kind: "download", order: 32,
    run: (c: GroupActionContext) => new Response(null, { status: 303, headers: { location: `/quick-actions?group=${c.groupId}` } }),
  });
}
