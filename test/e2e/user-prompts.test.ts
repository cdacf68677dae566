/**
 * @module test/e2e/user-prompts
 * The user-facing package steps for real, end to end: a virtual X display (Xvfb) with a
 * session bus and a notification daemon (dunst), run by a test user created here (when the
 * test runs as root; otherwise as the current user, which it says); the appliance runs in
 * this process and the compiled agent, as root, finds that graphical session by itself
 * (/proc), shows real zenity dialogs and notify-send notifications in it as that user.
 * xdotool answers the dialogs like a person would (or lets one time out). Checked on the
 * server: the routing by the answer, the deployment states (postponed, resumed, limit
 * reached), the prompts recorded; and in dunst's history, the notifications as delivered.
 *
 * Needs the Debian packages xvfb, zenity, xdotool, libnotify-bin, dbus-x11 and dunst
 * (.ci/run installs them); skipped with a message when one is missing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { PackagesLike } from "../../src/features/deployments/package-source.ts";
import type { Descriptor, Step } from "../../src/features/packages/descriptor.ts";
import type { Running } from "../../src/server.ts";
import { applianceWithEnrolledAgent, type ApplianceWithAgent } from "./appliance-agent.ts";
import { runAgentProcess, tempDir, waitFor } from "./helpers.ts";

const TOOLS = ["Xvfb", "zenity", "xdotool", "notify-send", "dbus-daemon", "dunst", "dunstctl", "setpriv"];
const missing = TOOLS.filter((t) => !Bun.which(t));
if (missing.length) console.warn(`user-prompts e2e skipped: missing ${missing.join(", ")} (apt-get install xvfb zenity xdotool libnotify-bin dbus-x11 dunst)`);

const isRoot = process.getuid?.() === 0;
const TEST_USER = "usmedui";
const PASSWORD = "Prompts-admin-2026";
const STEP = 240_000;
const work = tempDir("medulla-prompts-e2e-");
const config = join(work.path, "agent", "agent.ini");
const out = join(work.path, "out");
const agentLog: string[] = [];
let app: ApplianceWithAgent;
let server: Running;
let agent: ReturnType<typeof Bun.spawn> | null = null;
let machineId = 0;

// ---- the desktop session ----
let uid = 0;
let gid = 0;
let home = "";
let userName = "";
let createdUser = false;
let display = "";
let bus = "";
const sessionProcs: ReturnType<typeof Bun.spawn>[] = [];

function asUser(argv: string[], env: Record<string, string> = {}): string[] {
  const e = Object.entries({ HOME: home, USER: userName, PATH: "/usr/local/bin:/usr/bin:/bin", ...env }).map(([k, v]) => `${k}=${v}`);
  return isRoot ? ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--init-groups", "--", "env", "-i", ...e, ...argv] : ["env", "-i", ...e, ...argv];
}
const sessionEnv = () => ({ DISPLAY: display, DBUS_SESSION_BUS_ADDRESS: bus });
function inSession(argv: string[], on = display): { code: number; out: string } {
  const r = Bun.spawnSync(asUser(argv, { ...sessionEnv(), DISPLAY: on }), { stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 15_000 });
  return { code: r.exitCode ?? -1, out: r.stdout.toString() };
}
const freeDisplay = (from: number) => {
  let n = from;
  while (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) n++;
  return n;
};
/** Processes of the test user (all started by this test, directly or by the session bus). */
function userPids(): number[] {
  return readdirSync("/proc").filter((n) => /^\d+$/.test(n)).filter((n) => {
    try {
      return statSync(`/proc/${n}`).uid === uid;
    } catch {
      return false;
    }
  }).map(Number);
}

async function startSession(): Promise<void> {
  const n = freeDisplay(90);
  display = `:${n}`;
  sessionProcs.push(Bun.spawn(asUser(["Xvfb", display, "-screen", "0", "1024x768x24", "-nolisten", "tcp"]), { stdin: "ignore", stdout: "ignore", stderr: "ignore" }));
  await waitFor("the X display", () => existsSync(`/tmp/.X11-unix/X${n}`), 20_000);
  const dbus = Bun.spawn(asUser(["dbus-daemon", "--session", "--nofork", "--print-address=1"], { DISPLAY: display }), { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
  sessionProcs.push(dbus);
  const reader = dbus.stdout.getReader();
  let text = "";
  await waitFor("the session bus address", async () => {
    const r = await reader.read();
    text += new TextDecoder().decode(r.value ?? new Uint8Array());
    return text.includes("\n") || r.done;
  }, 20_000);
  reader.releaseLock();
  bus = text.split("\n")[0]!.trim();
  sessionProcs.push(Bun.spawn(asUser(["dunst"], sessionEnv()), { stdin: "ignore", stdout: "ignore", stderr: "ignore" }));
  await waitFor("dunst on the session bus", () => inSession(["dunstctl", "count"]).code === 0, 20_000);
}

async function stopSession(): Promise<void> {
  for (const p of sessionProcs.splice(0)) {
    p.kill("SIGTERM");
    await Promise.race([p.exited, Bun.sleep(5000)]);
  }
  // What the bus started for the user (accessibility bus…) goes too, by pid.
  if (isRoot && uid) for (const pid of userPids()) try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
}

/** Notifications dunst received (closed first: its history holds the closed ones). */
function dunstHistory(): { summary: string; body: string; category: string; appname: string }[] {
  inSession(["dunstctl", "close-all"]);
  const r = inSession(["dunstctl", "history"]);
  const data = JSON.parse(r.out || "{}") as { data?: Record<string, { data: string }>[][] };
  return (data.data?.[0] ?? []).map((n) => ({ summary: n.summary?.data ?? "", body: n.body?.data ?? "", category: n.category?.data ?? "", appname: n.appname?.data ?? "" }));
}

const dialogOn = (title: string, on = display) => inSession(["xdotool", "search", "--name", `^${title}$`], on).out.trim().split("\n")[0] || false;

/** Answers the dialog titled `title` with `keys`, like a person at the keyboard; retried until the dialog is gone. */
async function answer(title: string, keys: string[], on = display): Promise<void> {
  const win = await waitFor(`the dialog "${title}" on ${on}`, () => dialogOn(title, on), 90_000);
  await waitFor(`the dialog "${title}" to take the answer`, async () => {
    inSession(["xdotool", "windowfocus", "--sync", win], on);
    inSession(["xdotool", "key", "--clearmodifiers", ...keys], on);
    await Bun.sleep(500);
    return !dialogOn(title, on);
  }, 30_000);
}

// ---- a package store for the test ----
const packages: { id: number; name: string; version: string; d: Descriptor; files: never[] }[] = [];
function addPackage(name: string, steps: Step[]): number {
  const id = packages.length + 1;
  const d: Descriptor = {
    format: "medulla-package/1", name, version: "1.0", description: name, kind: "install", targetOs: ["linux"], share: "global", transfer: { method: "pull", bandwidthKbps: 0 },
    priority: "normal", dependencies: [], inventory: { associate: false }, inventoryAfter: false, removeAfter: false, steps: { linux: { install: steps } },
  };
  packages.push({ id, name, version: "1.0", d, files: [] });
  return id;
}
const store: PackagesLike = {
  list: () => ({ items: packages.map((p) => ({ id: p.id, name: p.name, version: p.version })) }),
  find: (id) => packages.find((p) => p.id === id) ?? null,
  descriptor: (id) => packages.find((p) => p.id === id)!.d,
  files: () => [],
  blobPath: (sha) => join(work.path, "blobs", sha),
};

const api = (method: string, path: string, body?: unknown) => app.api(method, path, body);
const deployment = (id: number) => api("GET", `/api/v1/deployments/${id}`);
const finished = (id: number, timeoutMs = 120_000) =>
  waitFor(`deployment ${id} finished`, async () => {
    const d = await deployment(id);
    return d.status !== "running" && d.status !== "scheduled" ? d : false;
  }, timeoutMs);
const engine = () => server.app.deployments.engine;
const targetOf = (d: number) => engine().repo.targets(d)[0]!;
const promptsOf = (d: number) => engine().prompts.prompts(targetOf(d).id);
const logText = (d: number) => engine().repo.logs(targetOf(d).id).map((l) => l.text).join("\n");

describe.skipIf(missing.length > 0)("user prompts with a real desktop session and the compiled agent", () => {
  beforeAll(async () => {
    if (isRoot) {
      if (!readFileSync("/etc/passwd", "utf8").split("\n").some((l) => l.startsWith(`${TEST_USER}:`))) {
        const r = Bun.spawnSync(["useradd", "--create-home", "--shell", "/usr/sbin/nologin", TEST_USER], { stdout: "pipe", stderr: "pipe" });
        if (r.exitCode !== 0) throw new Error(`useradd: ${r.stderr.toString()}`);
        createdUser = true;
      }
      const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${TEST_USER}:`))!.split(":");
      [userName, uid, gid, home] = [TEST_USER, Number(line[2]), Number(line[3]), line[5]!];
    } else {
      console.warn("user-prompts e2e: not root, so the desktop session and the agent both run as the current user");
      uid = process.getuid!();
      gid = process.getgid!();
      userName = process.env.USER ?? "user";
      home = process.env.HOME ?? work.path;
    }
    await startSession();
    mkdirSync(out, { recursive: true });
    app = await applianceWithEnrolledAgent({ dir: work.path, password: PASSWORD, packages: store, agentConfig: config });
    ({ server, machineId } = app);
    agent = runAgentProcess(config, agentLog, { args: ["--log-level", "debug"], env: { LANG: "C.UTF-8" } });
    await waitFor("the machine online", async () => ((await api("GET", `/api/v1/machines/${machineId}`)).online ? true : false), 30_000);
  }, STEP);

  afterAll(async () => {
    if (agent) {
      agent.kill("SIGTERM");
      await agent.exited;
    }
    await server?.stop();
    await stopSession();
    if (createdUser) Bun.spawnSync(["userdel", "--force", "--remove", TEST_USER], { stdout: "ignore", stderr: "ignore" });
    work[Symbol.dispose]();
  });

  test("notifications reach the session's daemon as sent; a question answered yes in the real dialog routes to the yes branch", async () => {
    const marker = join(out, "yes.txt");
    const id = addPackage("Ask_yes", [
      { id: "notice", action: "user_notify", title: "E2E notice", message: `Maintenance <b>tonight</b> & "soon" $(touch ${out}/pwned)`, timeout: 30 },
      { id: "kiosk", action: "kiosk_notify", message: "New software in your kiosk" },
      { id: "q", action: "ask_user", title: "E2E question", question: "Install the <i>update</i> now?", yesLabel: "Yes_install", noLabel: "No", timeout: 120, default: "no", next: { codes: [{ when: "==0", goto: "yes" }, { when: "==1", goto: "no" }] } },
      { id: "yes", action: "command", command: `echo yes > "${marker}"`, next: { success: "ok" } },
      { id: "ok", action: "end_success" },
      { id: "no", action: "end_error", message: "the user declined" },
    ]);
    const d = await api("POST", "/api/v1/deployments", { packageId: String(id), machineIds: [machineId] });
    // The buttons: "No" (focused) then "Yes_install": Tab moves to it.
    await answer("E2E question", ["Tab", "Return"]);
    const done = await finished(d.id);
    expect(done.targets[0]).toMatchObject({ state: "succeeded" });
    expect(readFileSync(marker, "utf8")).toBe("yes\n");
    const who = `${userName} on x11${display}`;
    expect(promptsOf(d.id).map((p) => [p.kind, p.outcome, p.answer, p.by_whom])).toEqual([
      ["user_notify", "shown", null, ""],
      ["kiosk_notify", "shown", null, ""],
      ["ask_user", "answered", "yes", who],
    ]);
    expect(logText(d.id)).toContain(`q: question "Install the <i>update</i> now?": the user answered "yes" (${who})`);
    const seen = dunstHistory();
    const notice = seen.find((n) => n.summary === "E2E notice")!;
    expect(notice).toMatchObject({ appname: "Medulla", category: "x-medulla.user" });
    expect(notice.body).toBe(`Maintenance &lt;b&gt;tonight&lt;/b&gt; &amp; &quot;soon&quot; $(touch ${out}/pwned)`);
    expect(seen.find((n) => n.body === "New software in your kiosk")).toMatchObject({ category: "x-medulla.kiosk" });
    expect(existsSync(join(out, "pwned"))).toBe(false);
  }, STEP);

  test("a question nobody answers times out and the default answer routes", async () => {
    const id = addPackage("Ask_timeout", [
      { id: "q", action: "ask_user", title: "E2E unanswered", question: "Reboot now?", timeout: 10, default: "no", next: { codes: [{ when: "==0", goto: "ok" }, { when: "==1", goto: "no" }] } },
      { id: "ok", action: "end_success" },
      { id: "no", action: "end_error", message: "not now" },
    ]);
    const d = await api("POST", "/api/v1/deployments", { packageId: String(id), machineIds: [machineId] });
    // The dialog is really shown, then gives up on its own.
    await waitFor("the unanswered dialog", () => inSession(["xdotool", "search", "--name", "^E2E unanswered$"]).out.trim() !== "", 60_000);
    const done = await finished(d.id);
    expect(done.targets[0]).toMatchObject({ state: "failed", reason: "step" });
    expect(done.targets[0].detail).toContain("not now");
    expect(promptsOf(d.id)).toEqual([expect.objectContaining({ kind: "ask_user", outcome: "timeout", answer: null, applied: "default no" })]);
    expect(logText(d.id)).toContain('timed out → default "no"');
  }, STEP);

  test("two sessions: the question is shown in both, the first answer wins and the other dialog is closed", async () => {
    // A second display of the same user, with one process of its session on it.
    const second = `:${freeDisplay(Number(display.slice(1)) + 1)}`;
    const x = Bun.spawn(asUser(["Xvfb", second, "-screen", "0", "800x600x24", "-nolisten", "tcp"]), { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    await waitFor("the second X display", () => existsSync(`/tmp/.X11-unix/X${second.slice(1)}`), 20_000);
    const holder = Bun.spawn(asUser(["sleep", "600"], { DISPLAY: second }), { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    try {
      const id = addPackage("Ask_two", [
        { id: "q", action: "ask_user", title: "E2E two sessions", question: "Proceed?", timeout: 120, default: "no", next: { codes: [{ when: "==0", goto: "ok" }, { when: "==1", goto: "no" }] } },
        { id: "ok", action: "end_success" },
        { id: "no", action: "end_error", message: "declined" },
      ]);
      const d = await api("POST", "/api/v1/deployments", { packageId: String(id), machineIds: [machineId] });
      await waitFor("the dialog on the first display", () => dialogOn("E2E two sessions"), 90_000);
      await answer("E2E two sessions", ["Return"], second);
      const done = await finished(d.id);
      expect(done.targets[0]).toMatchObject({ state: "failed" });
      expect(done.targets[0].detail).toContain("declined");
      expect(promptsOf(d.id)).toEqual([expect.objectContaining({ outcome: "answered", answer: "no", by_whom: `${userName} on x11${second}` })]);
      expect(logText(d.id)).toContain(`answered in ${userName} on x11${second}; the dialog in ${userName} on x11${display} closed`);
      await waitFor("the other dialog closed", () => !dialogOn("E2E two sessions"), 20_000);
    } finally {
      holder.kill();
      x.kill();
      await Promise.all([holder.exited, x.exited]);
      // Helpers the dialogs started on that display (accessibility bus…) go too, by pid.
      for (const pid of userPids()) {
        try {
          if (readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`DISPLAY=${second}`)) process.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }
    }
  }, STEP);

  test("postponed in the real dialog: the machine waits, resumes after the interval, and with the limit reached installs without asking", async () => {
    const marker = join(out, "deferred.txt");
    const id = addPackage("Defer_once", [
      { id: "later", action: "defer", title: "E2E deferral", message: "Updates are ready.", maxDeferrals: 1, delayMinutes: 1, timeout: 120, postponeLabel: "Later" },
      { id: "install", action: "command", command: `echo installed >> "${marker}"` },
      { id: "ok", action: "end_success" },
    ]);
    const d = await api("POST", "/api/v1/deployments", { packageId: String(id), machineIds: [machineId] });
    const win = await waitFor("the deferral dialog", () => dialogOn("E2E deferral"), 90_000).catch((e) => {
      console.error(agentLog.slice(-40).join("\n"), "\n---\n", logText(d.id));
      throw e;
    });
    expect(win).toBeTruthy();
    // "Later (1)" comes first and has the focus.
    await answer("E2E deferral", ["Return"]);
    const held = await waitFor("the machine postponed", async () => {
      const t = (await deployment(d.id)).targets[0];
      return t.state === "queued" && t.deferral?.resumeAt ? t : false;
    }, 60_000);
    expect(held.deferral).toMatchObject({ used: 1, max: 1 });
    expect(held.detail).toContain("deferred by the user until");
    expect(existsSync(marker)).toBe(false);
    // The engine resumes it after the interval (1 min); the limit is reached: no dialog, a notice, then the install.
    const done = await finished(d.id, 180_000);
    expect(done.targets[0]).toMatchObject({ state: "succeeded", deferral: { used: 1, max: 1, resumeAt: null } });
    expect(readFileSync(marker, "utf8")).toBe("installed\n");
    expect(promptsOf(d.id).map((p) => [p.kind, p.outcome, p.answer])).toEqual([
      ["defer", "answered", "no"],
      ["defer", "limit", null],
    ]);
    expect(dunstHistory().some((n) => n.body.startsWith("Updates are ready."))).toBe(true);
  }, STEP);

  test("a dialog closed without an answer (Escape) takes the default, said so", async () => {
    const id = addPackage("Ask_closed", [
      { id: "q", action: "ask_user", title: "E2E closed", question: "Proceed?", timeout: 120, default: "yes", next: { codes: [{ when: "==0", goto: "ok" }, { when: "==1", goto: "no" }] } },
      { id: "ok", action: "end_success" },
      { id: "no", action: "end_error" },
    ]);
    const d = await api("POST", "/api/v1/deployments", { packageId: String(id), machineIds: [machineId] });
    await answer("E2E closed", ["Escape"]);
    const done = await finished(d.id);
    expect(done.targets[0]).toMatchObject({ state: "succeeded" });
    expect(promptsOf(d.id)).toEqual([expect.objectContaining({ outcome: "dismissed", answer: null, applied: "default yes" })]);
    expect(logText(d.id)).toContain('closed without an answer → default "yes"');
  }, STEP);

  test("nobody logged in: the question takes its default, said so", async () => {
    await stopSession();
    const id = addPackage("Ask_nobody", [
      { id: "q", action: "ask_user", question: "Proceed?", timeout: 60, default: "yes", next: { codes: [{ when: "==0", goto: "ok" }, { when: "!=0", goto: "no" }] } },
      { id: "ok", action: "end_success" },
      { id: "no", action: "end_error" },
    ]);
    const d = await api("POST", "/api/v1/deployments", { packageId: String(id), machineIds: [machineId] });
    const done = await finished(d.id);
    expect(done.targets[0]).toMatchObject({ state: "succeeded" });
    expect(promptsOf(d.id)).toEqual([expect.objectContaining({ outcome: "no_session", applied: "default yes" })]);
    expect(logText(d.id)).toContain('no user session → default "yes"');
  }, STEP);
});
