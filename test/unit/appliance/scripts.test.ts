/**
 * The appliance recipe's scripts and units, checked without building an image (the image
 * itself is test/e2e/image.test.ts): shell syntax, and the service's contract (its own user,
 * one capability, restarted by systemd, settings from /etc/medulla).
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const dir = join(import.meta.dir, "..", "..", "..", "appliance");
const scripts = [
  "build-image.sh", "lib.sh", "base-setup.sh",
  ...readdirSync(join(dir, "rootfs/usr/lib/medulla")).map((f) => `rootfs/usr/lib/medulla/${f}`),
];

describe("appliance recipe", () => {
  test.each(scripts)("%s is valid shell", (file) => {
    const shell = readFileSync(join(dir, file), "utf8").startsWith("#!/bin/sh") ? "sh" : "bash";
    const r = Bun.spawnSync([shell, "-n", join(dir, file)]);
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    if (file.startsWith("rootfs/")) expect(statSync(join(dir, file)).mode & 0o111).not.toBe(0);
  });

  test("medulla.service: its own user, only CAP_NET_BIND_SERVICE, restarted, data and settings in place", () => {
    const unit = readFileSync(join(dir, "rootfs/etc/systemd/system/medulla.service"), "utf8");
    for (const line of ["User=medulla", "AmbientCapabilities=CAP_NET_BIND_SERVICE", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "NoNewPrivileges=yes", "Restart=always", "ProtectSystem=strict", "ReadWritePaths=/var/lib/medulla", "EnvironmentFile=/etc/medulla/medulla.env", "EnvironmentFile=-/etc/medulla/local.env", "ExecStart=/usr/lib/medulla/medulla serve"]) {
      expect(unit).toContain(line);
    }
    const env = readFileSync(join(dir, "rootfs/etc/medulla/medulla.env"), "utf8");
    expect(env).toContain("MEDULLA_DATA_DIR=/var/lib/medulla");
  });

  test("the console menu offers what the issue asks", () => {
    const c = readFileSync(join(dir, "rootfs/usr/lib/medulla/console"), "utf8");
    for (const item of ["Network settings", "Reset the root password", "Show logs", "Reboot", "Shut down", "Initial password for root: "]) expect(c).toContain(item);
  });
});
