/**
 * @module net/xmpp/component
 * XEP-0114 external components: a stream in `jabber:component:accept` addressed to the
 * component's domain, authenticated by `<handshake>` = hex SHA-1(stream id + secret). A
 * domain takes one component at a time (a second gets `conflict`). Once accepted, the
 * component receives every stanza addressed to its domain, and may send stanzas from
 * addresses within it only (`invalid-from` otherwise). XEP-0114 has no TLS: keep
 * components on loopback or a trusted network.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { NS, type StreamHeader } from "./codec.ts";
import { makeJid } from "./jid.ts";
import type { Connection, Stage } from "./stream.ts";

export function isComponentStream(header: StreamHeader): boolean {
  return header.contentNs === NS.component;
}

export function handshakeDigest(streamId: string, secret: string): string {
  return createHash("sha1").update(streamId + secret).digest("hex");
}

export function handshakeStage(conn: Connection): Stage {
  const { host } = conn;
  return {
    stanza(stanza) {
      if (stanza.name !== "handshake") return conn.fail("not-authorized", "send the handshake first");
      const name = conn.username!;
      const expected = Buffer.from(handshakeDigest(conn.streamId, host.components.get(name) ?? ""));
      const got = Buffer.from(stanza.getText().trim().toLowerCase());
      const isValid = got.length === expected.length && timingSafeEqual(got, expected);
      if (!isValid) {
        host.stats.authFailures++;
        conn.log.info({ ip: conn.ip, component: name }, "xmpp component handshake failed");
        host.addresses.authFailed(conn.ip);
        return conn.fail("not-authorized", "handshake failed");
      }
      if (!host.router.attachComponent(conn, makeJid("", name))) return conn.fail("conflict", "this component is already connected");
      conn.setMaxStanzaBytes(host.limits.maxStanzaBytes);
      conn.send("<handshake/>");
      conn.log.info({ ip: conn.ip, component: name }, "xmpp component connected");
      conn.stage = boundComponent(conn);
      conn.hooks.established();
    },
  };
}

function boundComponent(conn: Connection): Stage {
  return {
    stanza(stanza, ns) {
      conn.host.router.fromComponent(conn, stanza, ns);
    },
  };
}
