/**
 * @module fs/atomic
 * Write, flush, then rename: a crash leaves either the old file or the new one, never half
 * of it (keys, certificates, the agent's config). Shared by the server and the agent.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";

export async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    const file = await open(tmp, "wx", mode);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    // The umask may have narrowed or (on some systems) the mode may be ignored at create.
    await chmod(tmp, mode).catch(() => undefined);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
