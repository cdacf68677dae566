/**
 * @module views/netboot/pages
 * Network boot pages (SPEC I3, I4, I7, I10): boot services, the default boot menu, the
 * network-boot configuration (values a flag or variable sets are shown locked) with the
 * services' state and the boot files, and the live log of boot requests.
 */
import type { FieldErrors } from "../../src/errors.ts";
import type { T } from "../../src/i18n/index.ts";
import { Check, CsrfField, Select, TextField, type Option } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";

export interface ServiceView {
  id: number;
  code: string;
  label: string;
  description: string;
  script: string;
  builtin: boolean;
  enabled: boolean;
  position: number;
  missing: string;
}

export function ServicesPage(props: { t: T; csrf: string; services: ServiceView[]; canEdit: boolean; notice?: string; error?: string; errors?: FieldErrors; values?: { label: string; description: string; script: string; position: string } }) {
  const { t } = props;
  return (
    <section class="stack" id="netboot-services">
      <div class="page-head">
        <h1 safe>{t("netboot.services.title")}</h1>
      </div>
      <p class="muted" safe>{t("netboot.services.intro")}</p>
      {when(props.notice, () => <Alert kind="success" text={props.notice!} />)}
      {when(props.error, () => <Alert kind="error" text={props.error!} />)}
      <table class="data">
        <thead>
          <tr>
            <th scope="col" safe>{t("netboot.services.position")}</th>
            <th scope="col" safe>{t("netboot.services.label")}</th>
            <th scope="col" safe>{t("netboot.services.description")}</th>
            <th scope="col" safe>{t("netboot.services.state")}</th>
            {when(props.canEdit, () => <th scope="col" class="visually-hidden" safe>{t("netboot.services.edit")}</th>)}
          </tr>
        </thead>
        <tbody>
          {props.services.map((s) => (
            <tr id={`boot-service-${s.id}`}>
              <td safe>{String(s.position)}</td>
              <td>
                <span safe>{s.label}</span>
                {when(s.builtin, () => <span class="badge" safe>{t("netboot.services.builtin")}</span>)}
              </td>
              <td>
                <span safe>{s.description}</span>
                {when(s.missing, () => <p class="muted small" safe>{t("netboot.services.missing", { files: s.missing })}</p>)}
              </td>
              <td>
                <span class={s.enabled ? "badge badge-ok" : "badge"} safe>{s.enabled ? t("netboot.services.enabled") : t("netboot.services.disabled")}</span>
              </td>
              {when(props.canEdit, () => (
                <td class="actions">
                  <form method="post" action={`/netboot/services/${s.id}/${s.enabled ? "disable" : "enable"}`} class="inline-form">
                    <CsrfField token={props.csrf} />
                    <button type="submit" class="link-button" safe>{s.enabled ? t("netboot.services.disable") : t("netboot.services.enable")}</button>
                  </form>
                  <a href={`/netboot/services/${s.id}`} safe>{t("netboot.services.edit")}</a>
                  {when(!s.builtin, () => (
                    <form method="post" action={`/netboot/services/${s.id}/delete`} class="inline-form">
                      <CsrfField token={props.csrf} />
                      <button type="submit" class="link-button danger" data-confirm={t("netboot.services.confirmDelete")} safe>{t("netboot.services.delete")}</button>
                    </form>
                  ))}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {when(props.canEdit, () => (
        <form class="card form" method="post" action="/netboot/services">
          <h2 safe>{t("netboot.services.add")}</h2>
          <ServiceFields t={t} csrf={props.csrf} values={props.values ?? { label: "", description: "", script: "", position: "100" }} errors={props.errors} builtin={false} />
        </form>
      ))}
    </section>
  );
}

function ServiceFields(props: { t: T; csrf: string; values: { label: string; description: string; script: string; position: string }; errors?: FieldErrors; builtin: boolean }) {
  const { t } = props;
  const err = props.errors?.script;
  return (
    <>
      <CsrfField token={props.csrf} />
      <TextField t={t} name="label" label={t("netboot.services.label")} value={props.values.label} required={!props.builtin} maxlength={60} errors={props.errors} />
      <TextField t={t} name="description" label={t("netboot.services.description")} value={props.values.description} maxlength={300} errors={props.errors} />
      <TextField t={t} name="position" type="number" label={t("netboot.services.position")} value={props.values.position} errors={props.errors} />
      <div class="field">
        <label for="script" safe>{t("netboot.services.script")}</label>
        <textarea id="script" name="script" rows="6" maxlength="4000" required class="mono" aria-invalid={err ? "true" : undefined} aria-describedby="script-hint" safe>
          {props.values.script}
        </textarea>
        <p class="hint" id="script-hint" safe>{t("netboot.services.scriptHint")}</p>
        {when(err, () => <p class="field-error" id="script-error" safe>{t(err!)}</p>)}
      </div>
      <button type="submit" class="primary" safe>{t("netboot.services.save")}</button>
    </>
  );
}

export function ServiceEditPage(props: { t: T; csrf: string; service: ServiceView; errors?: FieldErrors; error?: string; values?: { label: string; description: string; script: string; position: string } }) {
  const { t, service } = props;
  return (
    <section class="stack">
      <div class="page-head">
        <h1 safe>{t("netboot.services.editTitle", { name: service.label })}</h1>
      </div>
      {when(props.error, () => <Alert kind="error" text={props.error!} />)}
      <form class="card form" method="post" action={`/netboot/services/${service.id}`}>
        <ServiceFields t={t} csrf={props.csrf} builtin={service.builtin} errors={props.errors}
          values={props.values ?? { label: service.builtin ? "" : service.label, description: service.description, script: service.script, position: String(service.position) }} />
      </form>
    </section>
  );
}

export interface MenuFormValues {
  defaultService: string;
  wolService: string;
  timeout: string;
  wolWindow: string;
  hidden: boolean;
}

export function MenuPage(props: { t: T; csrf: string; options: Option[]; values: MenuFormValues; canEdit: boolean; preview: string; notice?: string; error?: string; errors?: FieldErrors; title?: string; intro?: string; action?: string; dropAction?: string }) {
  const { t } = props;
  return (
    <section class="stack" id="netboot-menu">
      <div class="page-head">
        <h1 safe>{props.title ?? t("netboot.menu.title")}</h1>
      </div>
      <p class="muted" safe>{props.intro ?? t("netboot.menu.intro")}</p>
      {when(props.notice, () => <Alert kind="success" text={props.notice!} />)}
      {when(props.error, () => <Alert kind="error" text={props.error!} />)}
      {when(props.canEdit && props.dropAction, () => (
        <form method="post" action={props.dropAction!} class="inline-form">
          <CsrfField token={props.csrf} />
          <button type="submit" class="link-button" safe>{t("netboot.machineMenu.drop")}</button>
        </form>
      ))}
      <form class="card form" method="post" action={props.action ?? "/netboot/menu"}>
        <CsrfField token={props.csrf} />
        <fieldset disabled={!props.canEdit}>
          <Select t={t} name="defaultService" label={t("netboot.menu.default")} options={props.options} selected={[props.values.defaultService]} errors={props.errors} />
          <Select t={t} name="wolService" label={t("netboot.menu.wol")} hint={t("netboot.menu.wolHint")} options={props.options} selected={[props.values.wolService]} errors={props.errors} />
          <TextField t={t} name="wolWindow" type="number" label={t("netboot.menu.wolWindow")} value={props.values.wolWindow} required errors={props.errors} />
          <TextField t={t} name="timeout" type="number" label={t("netboot.menu.timeout")} hint={t("netboot.menu.timeoutHint")} value={props.values.timeout} required errors={props.errors} />
          <Check t={t} name="hidden" label={t("netboot.menu.hidden")} checked={props.values.hidden} errors={props.errors} />
          {when(props.canEdit, () => <button type="submit" class="primary" safe>{t("netboot.services.save")}</button>)}
        </fieldset>
      </form>
      <details class="card">
        <summary safe>{t("netboot.menu.preview")}</summary>
        <pre class="mono" safe>{props.preview}</pre>
      </details>
    </section>
  );
}

export interface SettingsView {
  serverAddress: string;
  nextServer: string;
  proxyDhcp: boolean;
  guess: string;
  lockedAddress: boolean;
  lockedProxy: boolean;
  status: { name: string; state: string }[];
  tftpPort: number;
  bootUrl: string | null;
  root: string | null;
  files: { name: string; label: string; present: boolean }[];
}

export function SettingsPage(props: { t: T; csrf: string; view: SettingsView; canEdit: boolean; notice?: string; error?: string; errors?: FieldErrors; values?: { serverAddress: string; nextServer: string } }) {
  const { t, view } = props;
  const missingIpxe = view.root !== null && !view.files.some((f) => f.present);
  return (
    <section class="stack" id="netboot-settings">
      <div class="page-head">
        <h1 safe>{t("netboot.settings.title")}</h1>
      </div>
      <p class="muted" safe>{t("netboot.settings.intro")}</p>
      {when(props.notice, () => <Alert kind="success" text={props.notice!} />)}
      {when(props.error, () => <Alert kind="error" text={props.error!} />)}
      {when(missingIpxe, () => <Alert kind="error" text={t("netboot.settings.install", { root: view.root ?? "" })} />)}
      {when(view.root === null, () => <Alert kind="info" text={t("netboot.settings.noRoot")} />)}
      {when(view.bootUrl === null, () => <Alert kind="error" text={t("netboot.settings.noHttp")} />)}
      <form class="card form" method="post" action="/netboot/settings">
        <CsrfField token={props.csrf} />
        <fieldset disabled={!props.canEdit}>
          {view.lockedAddress ? (
            <div class="field">
              <label for="serverAddress" safe>{t("netboot.settings.address")}</label>
              <input id="serverAddress" value={view.serverAddress} disabled aria-describedby="serverAddress-hint" />
              <p class="hint" id="serverAddress-hint" safe>{t("netboot.settings.locked", { setting: "MEDULLA_BOOT_ADDRESS / --boot-address" })}</p>
            </div>
          ) : (
            <TextField t={t} name="serverAddress" label={t("netboot.settings.address")} hint={t("netboot.settings.addressHint", { guess: view.guess })} value={props.values?.serverAddress ?? view.serverAddress} maxlength={15} errors={props.errors} />
          )}
          <TextField t={t} name="nextServer" label={t("netboot.settings.nextServer")} hint={t("netboot.settings.nextServerHint")} value={props.values?.nextServer ?? view.nextServer} maxlength={15} errors={props.errors} />
          <Check t={t} name="proxyDhcp" label={t("netboot.settings.proxy")} checked={view.proxyDhcp} disabled={view.lockedProxy}
            hint={view.lockedProxy ? t("netboot.settings.locked", { setting: "MEDULLA_PROXYDHCP / --proxydhcp" }) : t("netboot.settings.proxyHint")} />
          {when(props.canEdit, () => <button type="submit" class="primary" safe>{t("netboot.settings.save")}</button>)}
        </fieldset>
      </form>
      <div class="card">
        <h2 safe>{t("netboot.settings.status")}</h2>
        <table class="data">
          <thead>
            <tr>
              <th scope="col" safe>{t("netboot.settings.service")}</th>
              <th scope="col" safe>{t("netboot.settings.state")}</th>
            </tr>
          </thead>
          <tbody>
            {view.status.map((s) => (
              <tr>
                <td safe>{s.name}</td>
                <td safe>{s.state}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p class="muted small" safe>{t("netboot.settings.tftpPort", { port: view.tftpPort })}</p>
        {when(view.bootUrl, () => <p class="muted small" safe>{t("netboot.settings.bootUrl", { url: `${view.bootUrl}/boot/menu.ipxe` })}</p>)}
      </div>
      <div class="card">
        <h2 safe>{t("netboot.settings.files")}</h2>
        <table class="data">
          <thead>
            <tr>
              <th scope="col" safe>{t("netboot.settings.file")}</th>
              <th scope="col" safe>{t("netboot.settings.for")}</th>
              <th scope="col" safe>{t("netboot.settings.state")}</th>
            </tr>
          </thead>
          <tbody>
            {view.files.map((f) => (
              <tr>
                <td class="mono" safe>{f.name}</td>
                <td safe>{f.label}</td>
                <td safe>{f.present ? t("netboot.settings.present") : t("netboot.settings.absent")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export interface LogRowView {
  id: number;
  at: string;
  kind: string;
  client: string;
  what: string;
  outcome: string;
  /** The outcome's code: failures are highlighted. */
  rawOutcome: string;
  /** The machine's boot menu page, when the request is from a known machine. */
  menuHref?: string;
  menuLabel?: string;
  detail: string;
}

export function LogRows(props: { t: T; rows: LogRowView[] }) {
  if (props.rows.length === 0) {
    return (
      <tr>
        <td colspan="6" class="muted" safe>{props.t("netboot.log.empty")}</td>
      </tr>
    );
  }
  return (
    <>
      {props.rows.map((r) => (
        <tr id={`boot-request-${r.id}`} class={r.rawOutcome === "failed" || r.rawOutcome === "refused" || r.rawOutcome === "malformed" || r.rawOutcome === "send-failed" ? "row-warn" : undefined}>
          <td safe>{r.at}</td>
          <td safe>{r.kind}</td>
          <td class="mono">
            {r.menuHref ? (
              <a href={r.menuHref} title={r.menuLabel} safe>
                {r.client}
              </a>
            ) : (
              <span safe>{r.client}</span>
            )}
          </td>
          <td class="mono" safe>{r.what}</td>
          <td safe>{r.outcome}</td>
          <td class="small" safe>{r.detail}</td>
        </tr>
      ))}
    </>
  );
}

export function LogPage(props: { t: T; rows: LogRowView[] }) {
  const { t } = props;
  return (
    <section class="stack" id="netboot-log">
      <div class="page-head">
        <h1 safe>{t("netboot.log.title")}</h1>
        <span class="live-status" id="live-status" data-offline={t("dashboard.offline")} data-online={t("dashboard.live")}></span>
      </div>
      <p class="muted" safe>{t("netboot.log.intro")}</p>
      <p class="muted small" safe>{t("netboot.log.history")}</p>
      <table class="data">
        <thead>
          <tr>
            <th scope="col" safe>{t("netboot.log.at")}</th>
            <th scope="col" safe>{t("netboot.log.kind")}</th>
            <th scope="col" safe>{t("netboot.log.client")}</th>
            <th scope="col" safe>{t("netboot.log.what")}</th>
            <th scope="col" safe>{t("netboot.log.outcome")}</th>
            <th scope="col" safe>{t("netboot.log.detail")}</th>
          </tr>
        </thead>
        <tbody data-live="netboot-log">
          <LogRows t={t} rows={props.rows} />
        </tbody>
      </table>
    </section>
  );
}
