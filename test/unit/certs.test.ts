import { afterEach, describe, expect, test } from "bun:test";
import { createPrivateKey } from "node:crypto";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  defaultNames,
  ensureCertificates,
  fingerprint,
  installUploadedCertificate,
  removeUploadedCertificate,
} from "../../src/certs/index.ts";

// Imported after the module under test, which installs the Reflect shim @peculiar/x509 needs.
const x509 = await import("@peculiar/x509");

const NAMES = { dns: ["medulla.test", "localhost"], ips: ["127.0.0.1", "::1"] };
const DAY = 86_400_000;
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), "medulla-certs-")), "certs");
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(join(dir, ".."), { recursive: true, force: true });
});

type KeyKind = "P-256" | "P-384" | "RSA";
const GEN: Record<KeyKind, { key: RsaHashedKeyGenParams | EcKeyGenParams; sign: Algorithm | EcdsaParams }> = {
  "P-256": { key: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams },
  "P-384": { key: { name: "ECDSA", namedCurve: "P-384" }, sign: { name: "ECDSA", hash: "SHA-384" } as EcdsaParams },
  RSA: {
    key: { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    sign: { name: "RSASSA-PKCS1-v1_5" },
  },
};

/** A self-signed certificate for localhost, as an admin might upload. */
async function selfSigned(kind: KeyKind = "P-384", validity = { from: Date.now() - DAY, to: Date.now() + 90 * DAY }) {
  const keys = (await crypto.subtle.generateKey(GEN[kind].key, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: "CN=localhost",
    keys,
    signingAlgorithm: GEN[kind].sign,
    notBefore: new Date(validity.from),
    notAfter: new Date(validity.to),
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "dns", value: "localhost" }])],
  });
  const key = x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY");
  return { cert: cert.toString("pem"), key };
}

function sans(pem: string): string[] {
  const cert = new x509.X509Certificate(pem);
  return cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => `${n.type}:${n.value}`);
}

async function fetchOk(cert: string, key: string, ca: string): Promise<string> {
  using server = Bun.serve({ port: 0, tls: { cert, key }, fetch: () => new Response("ok") });
  const res = await fetch(`https://localhost:${server.port}/`, { tls: { ca } });
  return res.text();
}

describe("ensureCertificates", () => {
  test("first start creates the CA and the server certificate, keys private", async () => {
    const dir = await tempDir();
    const bundle = await ensureCertificates(dir, NAMES);
    expect((await readdir(dir)).sort()).toEqual(["ca.crt", "ca.key", "server.crt", "server.key"]);
    expect((await stat(join(dir, "ca.key"))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "server.key"))).mode & 0o777).toBe(0o600);
    expect(bundle.source).toBe("local");
    expect(bundle.key).toStartWith("-----BEGIN PRIVATE KEY-----");
    expect(bundle.cert.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);

    const ca = new x509.X509Certificate(bundle.caCert);
    const digest = Buffer.from(await crypto.subtle.digest("SHA-256", ca.rawData)).toString("hex");
    expect(bundle.caFingerprint).toBe(`sha256:${digest}`);
    expect(fingerprint(bundle.caCert)).toBe(bundle.caFingerprint);
    expect(fingerprint(ca.rawData)).toBe(bundle.caFingerprint);
    expect(ca.subject).toStartWith("CN=Medulla local CA");
    expect(ca.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ ca: true, critical: true });
    expect(ca.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
  });

  test("the server certificate chains to the CA and names the machine", async () => {
    const bundle = await ensureCertificates(await tempDir(), NAMES);
    const ca = new x509.X509Certificate(bundle.caCert);
    const server = new x509.X509Certificate(bundle.cert);
    expect(await server.verify({ publicKey: ca.publicKey })).toBe(true);
    const chain = await new x509.X509ChainBuilder({ certificates: [ca] }).build(server);
    expect(chain.map((c) => c.subject)).toEqual([server.subject, ca.subject]);
    expect(server.subject).toBe("CN=medulla.test");
    expect(sans(bundle.cert)).toEqual(["dns:medulla.test", "dns:localhost", "ip:127.0.0.1", "ip:::1"]);
    expect(server.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toContain(x509.ExtendedKeyUsage.serverAuth);
    expect(bundle.notAfter).toEqual(server.notAfter);
  });

  test("a second start reuses everything", async () => {
    const dir = await tempDir();
    const first = await ensureCertificates(dir, NAMES);
    const second = await ensureCertificates(dir, NAMES);
    expect(second).toEqual(first);
  });

  test("renews the server certificate 30 days before expiry, keeping the CA", async () => {
    const dir = await tempDir();
    const first = await ensureCertificates(dir, NAMES);
    const early = await ensureCertificates(dir, NAMES, new Date(first.notAfter.getTime() - 40 * DAY));
    expect(early.cert).toBe(first.cert);
    const late = new Date(first.notAfter.getTime() - 10 * DAY);
    const renewed = await ensureCertificates(dir, NAMES, late);
    expect(renewed.cert).not.toBe(first.cert);
    expect(renewed.caFingerprint).toBe(first.caFingerprint);
    expect(renewed.notAfter.getTime()).toBeGreaterThan(first.notAfter.getTime());
    const server = new x509.X509Certificate(renewed.cert);
    expect(await server.verify({ publicKey: new x509.X509Certificate(renewed.caCert).publicKey, date: late })).toBe(true);
  });

  test("a new name reissues the server certificate under the same CA", async () => {
    const dir = await tempDir();
    const first = await ensureCertificates(dir, NAMES);
    const more = { dns: [...NAMES.dns, "new.example"], ips: [...NAMES.ips, "10.1.2.3"] };
    const second = await ensureCertificates(dir, more);
    expect(second.cert).not.toBe(first.cert);
    expect(second.caFingerprint).toBe(first.caFingerprint);
    expect(sans(second.cert)).toEqual(expect.arrayContaining(["dns:new.example", "ip:10.1.2.3", "dns:medulla.test"]));
  });

  test("a server key that no longer matches its certificate (a crash mid-renewal) is replaced", async () => {
    const dir = await tempDir();
    const first = await ensureCertificates(dir, NAMES);
    await writeFile(join(dir, "server.key"), (await selfSigned("P-256")).key);
    const second = await ensureCertificates(dir, NAMES);
    expect(second.cert).not.toBe(first.cert);
    expect(second.caFingerprint).toBe(first.caFingerprint);
    expect(await fetchOk(second.cert, second.key, second.caCert)).toBe("ok");
  });

  test("serves TLS that a client trusting the CA accepts and another CA rejects", async () => {
    const bundle = await ensureCertificates(await tempDir(), NAMES);
    const stranger = await ensureCertificates(await tempDir(), NAMES);
    expect(await fetchOk(bundle.cert, bundle.key, bundle.caCert)).toBe("ok");
    await expect(fetchOk(bundle.cert, bundle.key, stranger.caCert)).rejects.toThrow(/certificate/);
  });
});

describe("uploaded certificates", () => {
  test("an uploaded certificate takes precedence until removed", async () => {
    const dir = await tempDir();
    const local = await ensureCertificates(dir, NAMES);
    const upload = await selfSigned("P-384");
    await installUploadedCertificate(dir, upload.cert, upload.key);
    expect((await stat(join(dir, "uploaded.key"))).mode & 0o777).toBe(0o600);

    const bundle = await ensureCertificates(dir, NAMES);
    expect(bundle.source).toBe("uploaded");
    expect(fingerprint(bundle.cert)).toBe(fingerprint(upload.cert));
    expect(bundle.caFingerprint).toBe(fingerprint(upload.cert));
    expect(await fetchOk(bundle.cert, bundle.key, bundle.caCert)).toBe("ok");

    await removeUploadedCertificate(dir);
    expect(await ensureCertificates(dir, NAMES)).toEqual(local);
  });

  test("accepts RSA keys in the legacy PKCS#1 form", async () => {
    const dir = await tempDir();
    const upload = await selfSigned("RSA");
    const pkcs1 = createPrivateKey(upload.key).export({ type: "pkcs1", format: "pem" }).toString();
    await installUploadedCertificate(dir, upload.cert, pkcs1);
    const bundle = await ensureCertificates(dir, NAMES);
    expect(bundle.key).toStartWith("-----BEGIN PRIVATE KEY-----");
    expect(await fetchOk(bundle.cert, bundle.key, bundle.caCert)).toBe("ok");
  });

  test("a tampered uploaded key stops the start with a message naming the way out", async () => {
    const dir = await tempDir();
    const upload = await selfSigned();
    await installUploadedCertificate(dir, upload.cert, upload.key);
    await writeFile(join(dir, "uploaded.key"), (await selfSigned()).key);
    await expect(ensureCertificates(dir, NAMES)).rejects.toThrow(/remove uploaded.crt.*does not match/);
  });

  const refusals: [string, () => Promise<{ cert: string; key: string }>, RegExp][] = [
    ["garbage certificate", async () => ({ ...(await selfSigned()), cert: "hello, world" }), /no complete PEM certificate/],
    ["truncated certificate", async () => { const u = await selfSigned(); return { ...u, cert: u.cert.slice(0, u.cert.length / 2) }; }, /no complete PEM certificate/],
    ["damaged certificate", async () => { const u = await selfSigned(); return { ...u, cert: u.cert.replace(/\n[^\n]*\n[^\n]*\n/, "\n") }; }, /damaged or truncated/],
    ["garbage key", async () => ({ ...(await selfSigned()), key: "not a key" }), /not a complete PEM private key/],
    ["truncated key", async () => { const u = await selfSigned(); return { ...u, key: u.key.slice(0, 60) }; }, /not a complete PEM private key/],
    ["key of another certificate", async () => ({ cert: (await selfSigned()).cert, key: (await selfSigned()).key }), /does not match/],
    ["key of another type", async () => ({ cert: (await selfSigned("P-256")).cert, key: (await selfSigned("RSA")).key }), /does not match/],
    ["expired certificate", () => selfSigned("P-256", { from: Date.now() - 100 * DAY, to: Date.now() - DAY }), /expired on/],
  ];

  test.each(refusals)("refuses a %s and writes nothing", async (_label, make, message) => {
    const dir = await tempDir();
    const { cert, key } = await make();
    await expect(installUploadedCertificate(dir, cert, key)).rejects.toThrow(message);
    expect(await readdir(dir).catch(() => [])).toEqual([]);
  });
});

describe("defaultNames", () => {
  test("covers localhost, loopback addresses and the public URL's host", () => {
    expect(defaultNames("https://medulla.example.org:8443/")).toMatchObject({
      dns: expect.arrayContaining(["medulla.example.org", "localhost"]),
      ips: expect.arrayContaining(["127.0.0.1", "::1"]),
    });
    expect(defaultNames("https://medulla.example.org").dns[0]).toBe("medulla.example.org");
    expect(defaultNames("https://[2001:db8::0001]:8443").ips).toContain("2001:db8::1");
    expect(defaultNames("https://192.0.2.7").ips).toContain("192.0.2.7");
    // The XMPP domain agents enrolled with stays named after the host is renamed.
    expect(defaultNames("http://medulla.example.org", ["Old-Name"]).dns.slice(0, 2)).toEqual(["medulla.example.org", "old-name"]);
  });
});
