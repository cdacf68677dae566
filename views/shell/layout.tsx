/**
 * @module views/shell/layout
 * The page frame: the document head (CSP-friendly: only same-origin scripts and styles),
 * the header with the user menu, the sidebar built from the registry's menu entries the
 * user may see, a flash area that htmx error fragments land in, and the main content.
 */
import type { Children } from "@kitajs/html";
import type { T } from "../../src/i18n/index.ts";

export interface MenuItem {
  label: string;
  href: string;
  section: string;
  current: boolean;
}

export interface ShellProps {
  t: T;
  lang: "fr" | "en";
  title: string;
  csrf: string;
  user: { login: string; displayName: string; isSuper: boolean } | null;
  menu: MenuItem[];
  children?: Children;
  /** Names of extra scripts under /static/ this page needs. */
  scripts?: string[];
}

export function Document(props: { lang: string; title: string; csrf: string; children?: Children; scripts?: string[] }) {
  return (
    <>
      {"<!doctype html>"}
      <html lang={props.lang}>
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="csrf-token" content={props.csrf} />
          <meta name="htmx-config" content='{"includeIndicatorCSS":false,"defaultTimeout":30000}' />
          <title safe>{props.title} · Medulla</title>
          <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
          <link rel="stylesheet" href="/static/app.css" />
          <script src="/static/htmx.min.js" defer></script>
          <script src="/static/app.js" defer></script>
          {(props.scripts ?? []).map((s) => (
            <script src={`/static/${s}`} defer></script>
          ))}
        </head>
        {props.children}
      </html>
    </>
  );
}

export function Shell(props: ShellProps) {
  const { t } = props;
  const sections = [...new Set(props.menu.map((m) => m.section))];
  return (
    <Document lang={props.lang} title={props.title} csrf={props.csrf} scripts={props.scripts}>
      <body class="shell">
        <a class="skip" href="#main" safe>
          {t("nav.skip")}
        </a>
        <header class="topbar">
          <a class="brand" href="/">
            <img src="/static/favicon.svg" alt="" width="28" height="28" />
            <span safe>{t("app.name")}</span>
          </a>
          {when(props.user, () => <UserMenu t={t} lang={props.lang} user={props.user!} csrf={props.csrf} />)}
        </header>
        <nav class="sidebar" aria-label={t("app.name")}>
          {sections.map((section) => (
            <section>
              <h2 safe>{section}</h2>
              <ul>
                {props.menu
                  .filter((m) => m.section === section)
                  .map((m) => (
                    <li>
                      <a href={m.href} aria-current={m.current ? "page" : undefined} safe>
                        {m.label}
                      </a>
                    </li>
                  ))}
              </ul>
            </section>
          ))}
        </nav>
        <main id="main" tabindex="-1">
          <div id="flash" aria-live="polite"></div>
          {props.children}
        </main>
      </body>
    </Document>
  );
}

function UserMenu(props: { t: T; lang: "fr" | "en"; user: NonNullable<ShellProps["user"]>; csrf: string }) {
  const { t, user } = props;
  return (
    <details class="user-menu">
      <summary>
        <span class="avatar" aria-hidden="true" safe>
          {user.displayName.slice(0, 1).toUpperCase()}
        </span>
        <span class="who" safe>
          {user.displayName}
        </span>
        <span class="visually-hidden" safe>{t("user.menu")}</span>
      </summary>
      <div class="menu-panel">
        <a href="/account" safe>{t("account.menuLink")}</a>
        <a href="/account/password" safe>{t("user.changePassword")}</a>
        <form method="post" action="/account/language" class="lang-form">
          <input type="hidden" name="_csrf" value={props.csrf} />
          <span class="label" safe>{t("user.language")}</span>
          <button type="submit" name="lang" value="fr" aria-pressed={props.lang === "fr" ? "true" : "false"} lang="fr" safe>
            {t("lang.fr")}
          </button>
          <button type="submit" name="lang" value="en" aria-pressed={props.lang === "en" ? "true" : "false"} lang="en" safe>
            {t("lang.en")}
          </button>
        </form>
        <form method="post" action="/logout">
          <input type="hidden" name="_csrf" value={props.csrf} />
          <button type="submit" class="link-button" safe>
            {t("user.logout")}
          </button>
        </form>
      </div>
    </details>
  );
}

/** The body of the flash area: an alert that htmx error responses swap in. */
export function Alert(props: { kind: "error" | "info" | "success"; text: string }) {
  return (
    <div class={`alert alert-${props.kind}`} role={props.kind === "error" ? "alert" : "status"} safe>
      {props.text}
    </div>
  );
}

/** `render()` when `condition` holds, else nothing: a conditional the XSS scanner can follow. */
export function when(condition: unknown, render: () => JSX.Element): JSX.Element {
  return condition ? render() : "";
}
