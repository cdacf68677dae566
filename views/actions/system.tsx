/**
 * @module views/actions/system
 * The machine page's system actions (SPEC C2, X4): the buttons, and the fragments each
 * one answers with (processes with "end", file systems, sockets, the agent's version, the
 * configuration file editor), swapped into #system-output.
 */
import type { T } from "../../src/i18n/index.ts";
import { CsrfField } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";

export interface SystemPanelProps {
  t: T;
  csrf: string;
  machine: { id: number; hostname: string; online: boolean; os: string };
  canDiagnose: boolean;
  canPower: boolean;
  canConfig: boolean;
  canShell: boolean;
  canRun: boolean;
  /** May request an inventory now (the inventory feature's route). */
  canInventory?: boolean;
  quickActions: { id: number; name: string }[];
}

export function SystemPanel(props: SystemPanelProps) {
  const { t, machine: m } = props;
  const post = (op: string) => `/computers/${m.id}/system/${op}`;
  return (
    <section class="card" id="system-actions">
      <h2 safe>{t("sys.title")}</h2>
      {when(!m.online, () => (
        <p class="muted" safe>
          {t("shell.offline")}
        </p>
      ))}
      <div class="action-frame">
        {when(props.canDiagnose, () => (
          <>
            <button type="button" hx-post={post("processes")} hx-target="#system-output" hx-swap="innerHTML" disabled={!m.online} safe>
              {t("sys.processes")}
            </button>
            <button type="button" hx-post={post("diskusage")} hx-target="#system-output" hx-swap="innerHTML" disabled={!m.online} safe>
              {t("sys.disk")}
            </button>
            <button type="button" hx-post={post("netstat")} hx-target="#system-output" hx-swap="innerHTML" disabled={!m.online} safe>
              {t("sys.netstat")}
            </button>
            <button type="button" hx-post={post("agentversion")} hx-target="#system-output" hx-swap="innerHTML" disabled={!m.online} safe>
              {t("sys.version")}
            </button>
          </>
        ))}
        {when(props.canInventory, () => (
          <button type="button" hx-post={`/computers/${m.id}/inventory/request`} hx-target="#system-output" hx-swap="innerHTML" disabled={!m.online} safe>
            {t("sys.inventoryNow")}
          </button>
        ))}
        {when(props.canConfig, () => (
          <button type="button" hx-post={post("configread")} hx-target="#system-output" hx-swap="innerHTML" disabled={!m.online} safe>
            {t("sys.config")}
          </button>
        ))}
        {when(props.canShell && m.os !== "windows", () => (
          <a class="button" href={`/computers/${m.id}/shell`} safe>
            {t("sys.shell")}
          </a>
        ))}
        {when(props.canPower, () => (
          <>
            <button type="button" class="danger" hx-post={post("reboot")} hx-target="#system-output" hx-swap="innerHTML" hx-confirm={t("sys.confirmReboot", { name: m.hostname })} disabled={!m.online} safe>
              {t("sys.reboot")}
            </button>
            <button type="button" class="danger" hx-post={post("shutdown")} hx-target="#system-output" hx-swap="innerHTML" hx-confirm={t("sys.confirmShutdown", { name: m.hostname })} disabled={!m.online} safe>
              {t("sys.shutdown")}
            </button>
          </>
        ))}
      </div>
      {when(props.canRun, () => (
        <form method="post" action={`/computers/${m.id}/quick-action`} class="inline-form qa-run-form">
          <CsrfField token={props.csrf} />
          <label for="qa-pick" safe>
            {t("qa.machine.run")}
          </label>
          {when(props.quickActions.length === 0, () => (
            <span class="muted" safe>
              {t("qa.machine.none")}
            </span>
          ))}
          {when(props.quickActions.length > 0, () => (
            <>
              <select id="qa-pick" name="quickAction">
                {props.quickActions.map((q) => (
                  <option value={String(q.id)} safe>
                    {q.name}
                  </option>
                ))}
              </select>
              <button type="submit" disabled={!m.online} safe>
                {t("qa.run")}
              </button>
            </>
          ))}
        </form>
      ))}
      <div id="system-output" aria-live="polite"></div>
    </section>
  );
}

const size = (bytes: number) => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) [v, i] = [v / 1024, i + 1];
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
};

export function SystemError(props: { t: T; error: string }) {
  return <Alert kind="error" text={props.t("sys.failed", { error: props.error })} />;
}

export function SystemAlert(props: { text: string }) {
  return <Alert kind="error" text={props.text} />;
}

export function SystemNotice(props: { text: string }) {
  return <Alert kind="success" text={props.text} />;
}

export function ProcessesView(props: { t: T; machineId: number; canKill: boolean; total: number; rows: { pid: number; name: string; user: string; cpuSeconds: number; rssKb: number; command: string }[] }) {
  const { t } = props;
  return (
    <div class="system-result">
      <h3 safe>{t("sys.processesOf", { shown: props.rows.length, total: props.total })}</h3>
      <table class="data compact" id="process-list">
        <thead>
          <tr>
            <th safe>{t("sys.col.pid")}</th>
            <th safe>{t("sys.col.name")}</th>
            <th safe>{t("sys.col.user")}</th>
            <th safe>{t("sys.col.cpu")}</th>
            <th safe>{t("sys.col.mem")}</th>
            <th safe>{t("sys.col.command")}</th>
            {when(props.canKill, () => (
              <th></th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((p) => (
            <tr>
              <td class="num" safe>
                {String(p.pid)}
              </td>
              <td safe>{p.name}</td>
              <td safe>{p.user}</td>
              <td class="num" safe>
                {p.cpuSeconds.toFixed(1)}
              </td>
              <td class="num" safe>
                {size(p.rssKb * 1024)}
              </td>
              <td class="mono small" safe>
                {p.command}
              </td>
              {when(props.canKill, () => (
                <td>
                  <button type="button" class="link-button danger" hx-post={`/computers/${props.machineId}/system/killprocess`} hx-vals={JSON.stringify({ pid: String(p.pid) })} hx-target="#system-output" hx-swap="innerHTML" hx-confirm={t("sys.confirmKill", { pid: p.pid, proc: p.name })} safe>
                    {t("sys.kill")}
                  </button>
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DiskView(props: { t: T; rows: { mount: string; device: string; type: string; totalBytes: number; usedBytes: number; freeBytes: number }[] }) {
  const { t } = props;
  return (
    <table class="data compact" id="disk-usage">
      <thead>
        <tr>
          <th safe>{t("sys.col.mount")}</th>
          <th safe>{t("sys.col.device")}</th>
          <th safe>{t("sys.col.type")}</th>
          <th safe>{t("sys.col.size")}</th>
          <th safe>{t("sys.col.used")}</th>
          <th safe>{t("sys.col.free")}</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((f) => (
          <tr>
            <td class="mono" safe>
              {f.mount}
            </td>
            <td safe>{f.device}</td>
            <td safe>{f.type}</td>
            <td class="num" safe>
              {size(f.totalBytes)}
            </td>
            <td class="num" safe>
              {`${size(f.usedBytes)} (${f.totalBytes ? Math.round((100 * f.usedBytes) / f.totalBytes) : 0} %)`}
            </td>
            <td class="num" safe>
              {size(f.freeBytes)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const procLabel = (s: { pid?: number; process?: string }): string => (s.pid ? `${s.process ?? ""} (${s.pid})` : "");

export function NetstatView(props: { t: T; truncated: boolean; rows: { proto: string; local: string; remote: string; state: string; pid?: number; process?: string }[] }) {
  const { t } = props;
  return (
    <div class="system-result">
      {when(props.truncated, () => (
        <p class="muted small" safe>
          {t("sys.truncated")}
        </p>
      ))}
      <table class="data compact" id="netstat">
        <thead>
          <tr>
            <th safe>{t("sys.col.proto")}</th>
            <th safe>{t("sys.col.local")}</th>
            <th safe>{t("sys.col.remote")}</th>
            <th safe>{t("sys.col.state")}</th>
            <th safe>{t("sys.col.process")}</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((s) => (
            <tr>
              <td safe>{s.proto}</td>
              <td class="mono" safe>
                {s.local}
              </td>
              <td class="mono" safe>
                {s.remote}
              </td>
              <td safe>{s.state}</td>
              <td safe>{procLabel(s)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ConfigEditor(props: { t: T; machineId: number; path: string; content: string; problems?: string[]; saved?: string }) {
  const { t } = props;
  return (
    <div class="system-result" id="config-editor">
      <h3 safe>{t("sys.config.title")}</h3>
      <p class="muted small" safe>
        {t("sys.config.path", { path: props.path })}
      </p>
      {when(props.saved, () => <Alert kind="success" text={t("sys.config.saved", { backup: props.saved! })} />)}
      {when(props.problems && props.problems.length, () => (
        <div class="alert error" role="alert">
          <p safe>{t("sys.config.refused")}</p>
          <ul>
            {props.problems!.map((p) => (
              <li safe>{p}</li>
            ))}
          </ul>
        </div>
      ))}
      <form hx-post={`/computers/${props.machineId}/system/configwrite`} hx-target="#system-output" hx-swap="innerHTML">
        <textarea name="content" rows="16" class="mono" maxlength="32768" aria-label={t("sys.config.title")} safe>
          {props.content}
        </textarea>
        <input type="hidden" name="path" value={props.path} />
        <p class="hint" safe>
          {t("sys.config.hint")}
        </p>
        <button type="submit" class="primary" safe>
          {t("sys.config.save")}
        </button>
      </form>
    </div>
  );
}
