/**
 * @module db/migrations
 * The numbered, append-only migrations, embedded as text so the compiled binary
 * carries them. Add a file `NNNN_name.sql` and one line here; never edit a landed one.
 */
import m0001 from "./0001_foundation.sql" with { type: "text" };
import m0002 from "./0002_users_rights.sql" with { type: "text" };
import m0003 from "./0003_machines_agents.sql" with { type: "text" };
import m0004 from "./0004_inventory.sql" with { type: "text" };
import m0007 from "./0007_netboot.sql" with { type: "text" };
import m0005 from "./0005_machine_groups.sql" with { type: "text" };
import m0006 from "./0006_actions.sql" with { type: "text" };
import m0008 from "./0008_packages.sql" with { type: "text" };
import m0009 from "./0009_deployments.sql" with { type: "text" };
import m0010 from "./0010_deployment_live_output.sql" with { type: "text" };
import m0011 from "./0011_deployment_prompts.sql" with { type: "text" };

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  { version: 1, name: "0001_foundation", sql: m0001 },
  { version: 2, name: "0002_users_rights", sql: m0002 },
  { version: 3, name: "0003_machines_agents", sql: m0003 },
  { version: 4, name: "0004_inventory", sql: m0004 },
  { version: 7, name: "0007_netboot", sql: m0007 },
  { version: 5, name: "0005_machine_groups", sql: m0005 },
  { version: 6, name: "0006_actions", sql: m0006 },
  { version: 8, name: "0008_packages", sql: m0008 },
  { version: 9, name: "0009_deployments", sql: m0009 },
  { version: 10, name: "0010_deployment_live_output", sql: m0010 },
  { version: 11, name: "0011_deployment_prompts", sql: m0011 },
].sort((a, b) => a.version - b.version);
