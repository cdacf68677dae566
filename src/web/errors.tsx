/**
 * @module web/errors
 * The one error handler. An `AppError` keeps its status and translated message; anything
 * else is logged with the request id and shown as a 500 with that id as reference. The
 * same error becomes JSON under /api, an alert fragment for htmx (swapped into the
 * page's #flash area), a redirect to sign-in when the session is missing, or a page.
 */
import { AppError, Unauthorized } from "../errors.ts";
import { Document, Alert } from "../../views/shell/layout.tsx";
import { ErrorBody } from "../../views/shell/error.tsx";
import type { Web } from "./app.tsx";
import { PasswordChangeRequired } from "./app.tsx";
import type { RequestContext } from "./context.ts";
import { html, json } from "./respond.ts";

export async function renderError(web: Web, ctx: RequestContext, error: unknown, request: Request): Promise<Response> {
  const url = new URL(request.url);
  let err: AppError;
  if (error instanceof AppError) err = error;
  else {
    web.deps.log.error({ req: ctx.id, err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) }, "unhandled error");
    err = new AppError(500, "internal", "error.internal", { id: ctx.id });
  }
  const message = ctx.t(err.messageKey, err.params);

  if (ctx.isApi) {
    const fields = err.fields ? Object.fromEntries(Object.entries(err.fields).map(([k, v]) => [k, ctx.t(v, err.params)])) : undefined;
    return json({ error: { code: err.code, message, ...(fields ? { fields } : {}) } }, err.status);
  }

  if (err instanceof Unauthorized || err instanceof PasswordChangeRequired) {
    const target =
      err instanceof PasswordChangeRequired
        ? "/account/password"
        : `/login?next=${encodeURIComponent(url.pathname + url.search)}${ctx.sessionExpired ? "&expired=1" : ""}`;
    if (ctx.isHtmx) return new Response(null, { status: err.status, headers: { "hx-redirect": target } });
    if (request.method === "GET") return new Response(null, { status: 303, headers: { location: target } });
  }

  if (ctx.isHtmx) {
    const body = await <Alert kind="error" text={message} />;
    // Errors land in the page's flash area whatever element asked.
    return html(body, err.status, { "hx-retarget": "#flash", "hx-reswap": "innerHTML" });
  }

  const signedIn = Boolean(ctx.session) && !(err instanceof PasswordChangeRequired);
  const content = <ErrorBody t={ctx.t} status={err.status} message={message} signedIn={signedIn} />;
  if (signedIn) return web.page(ctx, { title: ctx.t("error.title"), body: content, status: err.status });
  const body = await (
    <Document lang={ctx.lang} title={ctx.t("error.title")} csrf="">
      <body class="login-page">
        <main class="login-card">{content}</main>
      </body>
    </Document>
  );
  return html(body, err.status);
}
