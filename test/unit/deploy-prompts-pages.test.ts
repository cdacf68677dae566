/** The follow page and a machine's log fragment show postponements and what the users were asked and answered. */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Descriptor } from "../../src/features/packages/descriptor.ts";
import { createPackageSource } from "../../src/features/deployments/package-source.ts";
import { testApp } from "../support/app.ts";

setDefaultTimeout(30_000);
const strong = "Correct-horse-7";

describe("prompts on the follow page", () => {
  test("postponed state with until/k of N; prompts table with the outcome in words, hostile text escaped; API deferral", async () => {
    const t = testApp();
    const d: Descriptor = {
      format: "medulla-package/1", name: "Upd", version: "1", description: "", kind: "install", targetOs: ["linux"], share: "global", transfer: { method: "pull", bandwidthKbps: 0 }, priority: "normal",
      dependencies: [], inventory: { associate: false }, inventoryAfter: false, removeAfter: false,
      steps: { linux: { install: [{ id: "later", action: "defer", message: "m", maxDeferrals: 3, delayMinutes: 60, timeout: 60 }, { id: "ok", action: "end_success" }] } },
    };
    t.app.deployments.usePackages(createPackageSource({ list: () => ({ items: [{ id: 1, name: "Upd", version: "1" }] }), find: () => ({ id: 1, name: "Upd", version: "1" }), descriptor: () => d, files: () => [], blobPath: () => "/nonexistent" }));
    await t.addUser("boss", strong, { isSuper: true });
    const c = t.client();
    await c.signIn("boss", strong);
    const bearer = ((await (await t.client().request("POST", "/api/v1/tokens", { json: { username: "boss", password: strong } })).json()) as { token: string }).token;
    const tok = (await (await t.client().request("POST", "/api/v1/enrollment-tokens", { json: {}, headers: { authorization: `Bearer ${bearer}` } })).json()) as { token: string };
    const m = (await (await t.client().request("POST", "/api/v1/agents/enroll", { json: { token: tok.token, hostname: "pc-01", os: "linux", arch: "x64" } })).json()) as { machineId: number };
    const launched = (await (await t.client().request("POST", "/api/v1/deployments", { json: { packageId: "1", machineIds: [m.machineId] }, headers: { authorization: `Bearer ${bearer}` } })).json()) as { id: number };
    const e = t.app.deployments.engine;
    const target = e.repo.targets(launched.id)[0]!;
    const now = t.clock.now();
    // As the engine leaves a machine its user postponed: queued, with a postponement row.
    e.repo.updateTarget(target.id, { state: "queued", detail: "deferred by the user" }, now);
    e.prompts.saveDeferral({ targetId: target.id, deploymentId: launched.id, used: 2, max: 3, delay: 60, resumeAt: now + 3600_000, capped: false }, now);
    e.prompts.addPrompt({ deploymentId: launched.id, targetId: target.id, runId: target.run_id, at: now, i: { kind: "ask_user", step: 0, asked: `<script>alert(1)</script> "Close?"`, outcome: "timeout", applied: "default no" } });
    e.prompts.addPrompt({ deploymentId: launched.id, targetId: target.id, runId: target.run_id, at: now, i: { kind: "defer", step: 1, asked: "Updates", outcome: "answered", answer: "no", by: "alice on x11:0", applied: "postponed 2 of 3" } });
    e.prompts.addPrompt({ deploymentId: launched.id, targetId: target.id, runId: target.run_id, at: now, i: { kind: "kiosk_notify", step: 2, asked: "New software", outcome: "no_session" } });

    const follow = await c.page(`/deployments/${launched.id}`);
    expect(follow.html).toContain("Reporté par l&#x27;utilisateur");
    expect(follow.html).toContain("(2 sur 3)");
    expect(follow.html).toContain("1 machine(s) reportée(s) par leur utilisateur.");
    const frag = await c.page(`/deployments/${launched.id}/targets/${target.id}/log`);
    expect(frag.res.status).toBe(200);
    expect(frag.html).toContain("Notifications et questions à l&#x27;utilisateur");
    expect(frag.html).toContain("Reporté par l&#x27;utilisateur : reprise à");
    expect(frag.html).toContain("Pas de réponse à temps → réponse par défaut");
    expect(frag.html).toContain("Réponse de l&#x27;utilisateur :");
    expect(frag.html).toContain("reporter");
    expect(frag.html).toContain("alice on x11:0");
    expect(frag.html).toContain("Notification kiosque (affichée sur le bureau)");
    expect(frag.html).toContain("Aucune session utilisateur → réponse par défaut");
    expect(frag.html).not.toContain("<script>alert(1)</script>");
    expect(frag.html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");

    const api = (await (await t.client().request("GET", `/api/v1/deployments/${launched.id}`, { headers: { authorization: `Bearer ${bearer}` } })).json()) as { targets: { deferral: unknown }[] };
    expect(api.targets[0]!.deferral).toEqual({ used: 2, max: 3, resumeAt: now + 3600_000 });
  });
});
