/**
 * @module test/e2e/helpers
 * What the end-to-end tests share: the single binary built once per run (when missing or
 * older than the sources), free ports, a running `medulla` in a throwaway folder that
 * stops itself at the end of its `await using` scope, a small cookie-keeping HTTP client
 * for form sign-in, and a headless Chromium with a fresh profile. Nothing here sleeps for
 * a fixed time: every wait is a condition with a deadline.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const root = join(import.meta.dir, "..", "..");
export const binary = join(root, "dist", "medulla");
export const agentBinary = join(root, "dist", "agent", `medulla-agent-linux-${process.arch === "arm64" ? "arm64" : "x64"}`);
export const bun = process.execPath;

// ---------------------------------------------------------------------------------------
// Waiting

/** Resolves once `check` returns a value other than undefined/false; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ""}`);
    }
    await Bun.sleep(25); // the polling interval of a condition, not a wait for time to pass
  }
}

// ---------------------------------------------------------------------------------------
// Build

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

let built: Promise<void> | undefined;

/** Builds dist/medulla once per test run, and only when it is missing or older than its sources. */
export function ensureBinary(): Promise<void> {
  built ??= (async () => {
    const sources = ["src", "views", "static", "agent", "scripts/build.ts", "package.json"].map((p) => join(root, p)).filter(existsSync);
    const newestSource = Math.max(...sources.map(newestMtime));
    const fresh = (file: string) => existsSync(file) && statSync(file).mtimeMs >= newestSource;
    if (fresh(binary) && fresh(agentBinary)) return;
    const proc = Bun.spawnSync([bun, "scripts/build.ts"], { cwd: root, stdout: "pipe", stderr: "pipe" });
    if (proc.exitCode !== 0) throw new Error(`build failed:\n${proc.stdout.toString()}${proc.stderr.toString()}`);
  })();
  return built;
}

// ---------------------------------------------------------------------------------------
// Temp folders and ports

export interface TempDir extends Disposable {
  path: string;
}

export function tempDir(prefix = "medulla-e2e-"): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

/** A TCP port nobody listens on right now (the OS picks it; we close and hand it over). */
export async function freePort(host = "0.0.0.0"): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Holds `port` on all addresses, dropping any connection: a service squatting the port. */
export async function holdPort(port: number): Promise<AsyncDisposable & { server: Server }> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "0.0.0.0", resolve);
  });
  return { server, [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

// ---------------------------------------------------------------------------------------
// Running the binary

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a short `medulla` command (version, backup, restore, ...) to completion. */
export async function runMedulla(args: readonly string[], opts: { cwd?: string; env?: Record<string, string>; exe?: string } = {}): Promise<RunResult> {
  const proc = Bun.spawn([opts.exe ?? binary, ...args], {
    cwd: opts.cwd ?? tmpdir(),
    env: { ...cleanEnv(), ...opts.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

/** The environment without any MEDULLA_* setting of the machine running the tests. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("MEDULLA_")) env[k] = v;
  return env;
}

export interface StartOptions {
  /** Working folder; a fresh temp folder (removed at the end) when omitted. */
  dir?: string;
  /** Extra arguments after the ports and data folder. */
  args?: string[];
  env?: Record<string, string>;
  /** 0 switches the service off; a free port is picked when omitted. */
  httpPort?: number;
  httpsPort?: number;
  xmppPort?: number;
  /** The data folder as --data-dir; when null, no flag: the binary uses ./data. */
  dataDir?: string | null;
  /** Copy the binary into `dir` and run that copy (checks it needs nothing beside it). */
  copyBinary?: boolean;
}

export interface Medulla extends AsyncDisposable {
  dir: string;
  dataDir: string;
  httpPort: number;
  httpsPort: number;
  xmppPort: number;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout, waiting for it to be printed. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** A URL on the HTTPS service when on, else on HTTP. */
  url(path: string): string;
  /** The local CA of data/certs, for `fetch(url, { tls: { ca } })`. */
  ca(): Promise<string>;
  /** SIGTERM, then waits for the exit (SIGKILL past the deadline). Returns the exit code. */
  stop(): Promise<number>;
}

/**
 * Starts `medulla serve` and waits until /healthz answers (with any status: a degraded
 * appliance answers 503). Fails at once, with the output, when the process exits first.
 */
export async function startMedulla(opts: StartOptions = {}): Promise<Medulla> {
  await ensureBinary();
  const owned = opts.dir === undefined ? tempDir() : null;
  const dir = opts.dir ?? owned!.path;
  mkdirSync(dir, { recursive: true });
  const httpPort = opts.httpPort ?? (await freePort());
  const httpsPort = opts.httpsPort ?? (await freePort());
  const xmppPort = opts.xmppPort ?? (await freePort());
  const dataDir = opts.dataDir ?? join(dir, "data");
  let exe = binary;
  if (opts.copyBinary) {
    exe = join(dir, "medulla");
    copyFileSync(binary, exe);
  }
  const args = ["--http-port", String(httpPort), "--https-port", String(httpsPort), "--xmpp-port", String(xmppPort)];
  // TFTP (UDP 69) stays off unless a test asks for it: parallel runs would fight over the port.
  if (!(opts.args ?? []).some((a) => a.startsWith("--tftp-port"))) args.push("--tftp-port", "0");
  if (opts.dataDir !== null) args.push("--data-dir", dataDir);
  args.push(...(opts.args ?? []));

  const proc = Bun.spawn([exe, "serve", ...args], {
    cwd: dir,
    env: { ...cleanEnv(), ...opts.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  let err = "";
  const listeners = new Set<() => void>();
  const pump = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      add(decoder.decode(value, { stream: true }));
      for (const l of listeners) l();
    }
  };
  const pumped = Promise.all([pump(proc.stdout, (s) => (out += s)), pump(proc.stderr, (s) => (err += s))]);
  let exitCode: number | null = null;
  const exited = proc.exited.then(async (code) => {
    exitCode = code;
    await pumped;
    for (const l of listeners) l();
    return code;
  });
  const describe = () => `medulla exit=${exitCode ?? "running"}\n--- stdout ---\n${out}\n--- stderr ---\n${err}`;

  const waitForOutput = (pattern: RegExp, timeoutMs = 15_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = out.match(pattern);
        if (m) return done(() => resolve(m));
        if (exitCode !== null) done(() => reject(new Error(`medulla exited before printing ${pattern}\n${describe()}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no ${pattern} on stdout within ${timeoutMs} ms\n${describe()}`))), timeoutMs);
      const done = (f: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        f();
      };
      listeners.add(check);
      check();
    });

  const stop = async () => {
    if (exitCode === null) {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    return exitCode!;
  };

  const base = httpsPort > 0 ? `https://127.0.0.1:${httpsPort}` : `http://127.0.0.1:${httpPort}`;
  const medulla: Medulla = {
    dir, dataDir, httpPort, httpsPort, xmppPort, pid: proc.pid,
    stdout: () => out,
    stderr: () => err,
    waitForOutput,
    url: (path) => base + path,
    ca: () => Bun.file(join(dataDir, "certs", "ca.crt")).text(),
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
      owned?.[Symbol.dispose]();
    },
  };

  try {
    // Readiness only: the certificate is checked by the tests that are about it.
    await waitFor(`/healthz on ${base}`, async () => {
      if (exitCode !== null) throw new Error("exited");
      const res = await fetch(`${base}/healthz`, { tls: { rejectUnauthorized: false }, signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return true;
    }, 30_000);
  } catch (e) {
    await medulla[Symbol.asyncDispose]();
    throw new Error(`${(e as Error).message}\n${describe()}`);
  }
  return medulla;
}

// ---------------------------------------------------------------------------------------
// HTTP with cookies, as a browser without JavaScript would do it

export class HttpClient {
  readonly cookies = new Map<string, string>();

  constructor(
    readonly base: string,
    readonly ca?: string,
  ) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await fetch(this.base + path, { ...init, headers, redirect: "manual", tls: this.ca ? { ca: this.ca } : undefined });
    for (const c of res.headers.getSetCookie()) {
      const [pair = ""] = c.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  get(path: string): Promise<Response> {
    return this.request(path);
  }

  /** Posts a urlencoded form (the caller includes `_csrf`). */
  postForm(path: string, fields: Record<string, string>): Promise<Response> {
    return this.request(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** GETs `page` and returns the value of its hidden `_csrf` field. */
  async csrfFrom(page: string): Promise<string> {
    const res = await this.get(page);
    const body = await res.text();
    const m = body.match(/name="_csrf" value="([^"]+)"/);
    if (!m) throw new Error(`no _csrf field on ${page} (status ${res.status})`);
    return m[1]!;
  }

  /** Signs in through the form; returns the POST's response (303 on success). */
  async signIn(login: string, password: string): Promise<Response> {
    const _csrf = await this.csrfFrom("/login");
    return this.postForm("/login", { _csrf, login, password, lang: "fr", next: "/" });
  }
}

// ---------------------------------------------------------------------------------------
// Chromium

export const chromiumArgs = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

export interface Chromium extends AsyncDisposable {
  context: BrowserContext;
  userDataDir: string;
}

/**
 * Debian's Chromium, headless, with a fresh profile folder. Playwright takes the profile
 * folder as the persistent context's argument (it refuses --user-data-dir in `args`).
 */
export async function launchChromium(opts: { locale?: string } = {}): Promise<Chromium> {
  const profile = tempDir("medulla-chromium-");
  const context = await chromium.launchPersistentContext(profile.path, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: chromiumArgs,
    ignoreHTTPSErrors: true,
    locale: opts.locale ?? "fr-FR",
    viewport: { width: 1280, height: 800 },
  });
  return {
    context,
    userDataDir: profile.path,
    async [Symbol.asyncDispose]() {
      await context.close();
      profile[Symbol.dispose]();
    },
  };
}

export interface WatchedPage {
  page: Page;
  /** Script errors, console errors (CSP violations among them) and 5xx answers, with the page's URL. */
  problems: string[];
}

/**
 * The browser's first tab, watched: Content-Security-Policy violations reported as console
 * errors, console errors and uncaught script errors, and server errors (5xx), all gathered
 * in `problems` (or the array given) for the test to check at the end. `ignore` spares console lines a test
 * provokes on purpose (say, a refused form's 422).
 */
export async function openPage(browser: Chromium, opts: { timeoutMs?: number; ignore?: RegExp; problems?: string[] } = {}): Promise<WatchedPage> {
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  const problems = opts.problems ?? [];
  page.setDefaultTimeout(opts.timeoutMs ?? 15_000);
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  page.on("console", (m) => {
    if (m.type() === "error" && !opts.ignore?.test(m.text())) problems.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`${page.url()}: ${e.message}`));
  page.on("response", (res) => {
    if (res.status() >= 500) problems.push(`${res.status()} ${res.url()}`);
  });
  return { page, problems };
}

/** Signs in through the sign-in page (French labels) and waits for the dashboard. */
export async function signIn(page: Page, medulla: Pick<Medulla, "url">, login: string, password: string): Promise<void> {
  await page.goto(medulla.url("/login"));
  await page.locator("#login").fill(login);
  await page.locator("#password").fill(password);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.waitForURL((u) => u.pathname === "/");
}

/** The text a reader sees in an HTML page: tags dropped, entities decoded, spaces collapsed. */
export function visibleText(html: string): string {
  const entities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) =>
      e.startsWith("#x") ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith("#") ? String.fromCodePoint(Number(e.slice(1))) : (entities[e] ?? all),
    )
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * The `enroll …` arguments of an enrollment command as the page or the API prints it (it may
 * download the agent first, run under sudo, quote its values): what a test passes to the
 * compiled agent, with its own `--config`.
 */
export function enrollArgs(command: string): string[] {
  const step = command.split(/&&|;/).find((part) => /\senroll\s/.test(` ${part} `));
  if (!step) throw new Error(`no enroll step in: ${command}`);
  const words = step.trim().replace(/^sudo\s+/, "").split(/\s+/).slice(1);
  return words.map((a) => a.replace(/^'(.*)'$/, "$1").replace(/^"(.*)"$/, "$1"));
}

/**
 * `medulla-agent run` on `config`, its stdout and stderr lines appended to `log` as they come
 * (tests wait on them and print them when something fails).
 */
export function runAgentProcess(config: string, log: string[], opts: { args?: string[]; env?: Record<string, string> } = {}) {
  const proc = Bun.spawn([agentBinary, "run", "--config", config, ...(opts.args ?? [])], { stdout: "pipe", stderr: "pipe", stdin: "ignore", env: opts.env ? { ...process.env, ...opts.env } : undefined });
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async () => {
      const decoder = new TextDecoder();
      const reader = stream.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) log.push(...decoder.decode(r.value).split("\n"));
    })();
  }
  return proc;
}
