/**
 * @module agent/pin
 * Trust on first contact, by fingerprint (DESIGN.md "Certificates and trust"). The admin's
 * enroll command carries `--ca sha256:HEX`; the agent opens a TLS connection WITHOUT
 * default verification, takes the chain the server presents, finds the certificate whose
 * SHA-256 DER fingerprint equals the pin, and checks that the leaf descends from it
 * (signatures along the presented chain, every certificate valid now, intermediates being
 * CAs) and that the leaf names the host. Only then is that CA saved and used as the sole
 * trust root of every later connection (HTTPS and XMPP). Any mismatch is a refusal with a
 * message saying what did not match.
 */
import { createHash, X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import tls from "node:tls";

export class PinError extends Error {
  override name = "PinError";
}

export function derFingerprint(der: Uint8Array): string {
  return `sha256:${createHash("sha256").update(der).digest("hex")}`;
}

export function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64").replace(/.{1,64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`;
}

/** The DER certificates a TLS server presents, leaf first, read without verifying anything. */
export async function presentedChain(host: string, port: number, timeoutMs = 15_000): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, servername: isIP(host) ? undefined : host, rejectUnauthorized: false });
    const timer = setTimeout(() => fail(new PinError(`no TLS answer from ${host}:${port} within ${timeoutMs / 1000} s`)), timeoutMs);
    function fail(e: Error) {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    }
    socket.once("error", (e: Error & { code?: string }) =>
      fail(new PinError(`cannot reach ${host}:${port}: ${e.code === "ECONNREFUSED" ? "connection refused" : e.message}`)),
    );
    socket.once("secureConnect", () => {
      const chain: Uint8Array[] = [];
      const seen = new Set<string>();
      let cert = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
      while (cert?.raw && chain.length < 10) {
        const fp = derFingerprint(cert.raw);
        if (seen.has(fp)) break;
        seen.add(fp);
        chain.push(new Uint8Array(cert.raw));
        cert = cert.issuerCertificate;
      }
      clearTimeout(timer);
      socket.end();
      if (!chain.length) return reject(new PinError(`${host}:${port} presented no certificate`));
      resolve(chain);
    });
  });
}

function validNow(c: X509Certificate, now: Date, what: string): void {
  const from = new Date(c.validFrom);
  const to = new Date(c.validTo);
  if (now < from) throw new PinError(`the ${what} is not valid before ${from.toISOString()} (check this machine's clock)`);
  if (now > to) throw new PinError(`the ${what} expired on ${to.toISOString()}`);
}

function namesHost(leaf: X509Certificate, host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  return isIP(h) ? leaf.checkIP(h) !== undefined : leaf.checkHost(h) !== undefined;
}

/**
 * Verifies the presented chain against the pin; returns the pinned CA as PEM.
 * The leaf must name `host` and descend from the pinned certificate through the presented
 * chain (which may hold intermediates), each link checked by signature and issuer name.
 */
export function verifyPinnedChain(chain: Uint8Array[], pin: string, host: string, now = new Date()): { caPem: string; caFingerprint: string } {
  if (!chain.length) throw new PinError("the server presented no certificate");
  const certs = chain.map((der, i) => {
    try {
      return new X509Certificate(der);
    } catch {
      throw new PinError(`certificate ${i + 1} presented by the server cannot be read`);
    }
  });
  const fps = chain.map(derFingerprint);
  const pinnedAt = fps.indexOf(pin);
  if (pinnedAt < 0) {
    throw new PinError(`the server's certificate chain does not contain the pinned CA ${pin} (it presented ${fps.join(", ")}); refusing to trust it`);
  }
  const leaf = certs[0]!;
  validNow(leaf, now, "server certificate");
  if (!namesHost(leaf, host)) throw new PinError(`the server certificate does not name ${host} (it names ${leaf.subjectAltName ?? leaf.subject})`);
  // Walk up from the leaf to the pinned certificate, each issuer found among the presented ones.
  let current = leaf;
  let currentAt = 0;
  for (let hops = 0; currentAt !== pinnedAt; hops++) {
    if (hops >= certs.length) throw new PinError("the server certificate does not chain up to the pinned CA");
    const issuerAt = certs.findIndex((c, i) => i !== currentAt && current.checkIssued(c) && current.verify(c.publicKey));
    if (issuerAt < 0) throw new PinError("the server certificate is not signed by the pinned CA (nor by a CA it signed)");
    const issuer = certs[issuerAt]!;
    if (!issuer.ca) throw new PinError(`${issuer.subject} signed a certificate but is not a CA`);
    validNow(issuer, now, issuerAt === pinnedAt ? "pinned CA" : "intermediate CA");
    current = issuer;
    currentAt = issuerAt;
  }
  return { caPem: derToPem(chain[pinnedAt]!), caFingerprint: pin };
}

/** Fetches the presented chain and verifies it: the whole of "connect with a pin". */
export async function fetchPinnedCa(host: string, port: number, pin: string, now = new Date()): Promise<{ caPem: string; caFingerprint: string }> {
  return verifyPinnedChain(await presentedChain(host, port), pin, host, now);
}
