/**
 * @module agent/inventory/collect
 * A whole inventory document for this machine: the collector of its OS reads its sources
 * (sources.ts) and builds the parts; this module wraps them in the GLPI envelope
 * (`deviceid`, `itemtype`, `versionclient`) and adds `content.medulla.agentId`, which the
 * server's merge rule reads first (DESIGN.md "Machines"). Warnings name each part that
 * could not be read; the parts themselves are then empty.
 */
import os from "node:os";
import { VERSION } from "../../../src/version.ts";
import { agentOs, type AgentOs } from "../paths.ts";
import type { CollectedContent, InventoryDocument, Warn } from "./format.ts";
import { buildLinuxInventory, LINUX_SOURCES } from "./linux/index.ts";
import { buildMacInventory, MACOS_SOURCES } from "./macos/index.ts";
import { gatherSources, systemSourceDeps, type Raw, type Source, type SourceDeps } from "./sources.ts";
import { buildWindowsInventory, WINDOWS_SOURCES } from "./windows/index.ts";

export interface Collector {
  sources: Record<string, Source>;
  build(raw: Raw, now: Date, warn: Warn): CollectedContent;
}

export const COLLECTORS: Partial<Record<AgentOs, Collector>> = {
  linux: { sources: LINUX_SOURCES, build: buildLinuxInventory },
  windows: { sources: WINDOWS_SOURCES, build: buildWindowsInventory },
  darwin: { sources: MACOS_SOURCES, build: buildMacInventory },
};

export const versionClient = () => `Medulla-Agent_v${VERSION}`;

/** The GLPI envelope around collected parts. */
export function inventoryDocument(content: CollectedContent, agentId: string, hostname: string): InventoryDocument {
  const name = (content.hardware.name ?? hostname).toLowerCase();
  return {
    deviceid: agentId ? `${name}-${agentId}` : name,
    itemtype: "Computer",
    content: { versionclient: versionClient(), ...content, ...(agentId ? { medulla: { agentId } } : {}) },
  };
}

export interface CollectOptions {
  agentId: string;
  warn: Warn;
  platform?: string;
  deps?: SourceDeps;
  now?: () => Date;
}

export async function collectInventory(o: CollectOptions): Promise<InventoryDocument> {
  const platform = agentOs(o.platform ?? process.platform);
  const collector = COLLECTORS[platform];
  if (!collector) throw new Error(`no inventory collector for ${o.platform ?? process.platform}`);
  const raw = await gatherSources(collector.sources, o.deps ?? systemSourceDeps, o.warn);
  const content = collector.build(raw, (o.now ?? (() => new Date()))(), o.warn);
  return inventoryDocument(content, o.agentId, os.hostname().replace(/\..*$/, ""));
}
