/**
 * @module certs
 * The appliance's TLS identity, shared by HTTPS and XMPP. A local CA is created once and
 * agents pin it; the server certificate it signs is reissued whenever it nears expiry or
 * the machine's names change, without breaking those pins. An uploaded certificate, once
 * validated, takes the server certificate's place. Everything lives as PEM files in one
 * directory: ca.*, server.* and uploaded.* (.crt and .key).
 */
import { createHash, createPrivateKey, randomBytes } from "node:crypto";
import { mkdir, readFile, rm } from "node:fs/promises";
import { isIP } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { join } from "node:path";
import { writeAtomic } from "../fs/atomic.ts";
// @peculiar/x509 finds its algorithms through tsyringe, which needs the Reflect metadata
// API loaded first: ES imports run in order, so this line must stay above the next.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { X509Certificate } from "@peculiar/x509";

x509.cryptoProvider.set(globalThis.crypto);

export interface CertBundle {
  /** PEM chain to serve: the server certificate, then its issuer(s). */
  cert: string;
  /** PEM PKCS#8 private key of the server certificate. */
  key: string;
  /** PEM of the certificate agents pin: the local CA, or the top of the uploaded chain. */
  caCert: string;
  caFingerprint: string;
  source: "local" | "uploaded";
  notAfter: Date;
}

export interface Names {
  dns: string[];
  ips: string[];
}

/** A certificate or key that cannot be used; the message is meant for the admin. */
export class InvalidCertificate extends Error {
  override name = "InvalidCertificate";
}

const DAY = 86_400_000;
const CA_DAYS = 3652;
// Apple clients reject server certificates valid for longer than 825 days in total.
const SERVER_DAYS = 825;
const RENEW_BEFORE_DAYS = 30;
// Backdating absorbs clients whose clocks run a little behind ours.
const BACKDATE = 3_600_000;
const EC_KEY = { name: "ECDSA", namedCurve: "P-256" };
const EC_SIGN = { name: "ECDSA", hash: "SHA-256" };

interface Issued {
  cert: X509Certificate;
  key: CryptoKey;
  pem: string;
  keyPem: string;
}

/** Loads, creates or renews what HTTPS and XMPP serve; call at start (and daily, to renew). */
export async function ensureCertificates(dir: string, names: Names, now = new Date()): Promise<CertBundle> {
  const wanted = normalizeNames(names);
  if (!wanted.dns.length && !wanted.ips.length) throw new Error("no names to put in the server certificate");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // The CA is kept even while an uploaded certificate is in use, so removing the upload
  // brings back the identity agents already pinned.
  const ca = await loadCa(dir, wanted, now);
  const uploaded = await loadUploaded(dir);
  if (uploaded) return uploaded;
  const server = (await loadServer(dir, ca, wanted, now)) ?? (await issueServer(dir, ca, wanted, now));
  return {
    cert: server.pem + ca.pem,
    key: server.keyPem,
    caCert: ca.pem,
    caFingerprint: fingerprint(ca.pem),
    source: "local",
    notAfter: server.cert.notAfter,
  };
}

/** "sha256:" + lowercase hex of the SHA-256 of a certificate's DER (the first one of a PEM). */
export function fingerprint(pemOrDer: string | ArrayBuffer | ArrayBufferView): string {
  const der =
    typeof pemOrDer === "string"
      ? pemBlocks(pemOrDer, "CERTIFICATE")[0]
      : pemOrDer instanceof ArrayBuffer
        ? new Uint8Array(pemOrDer)
        : new Uint8Array(pemOrDer.buffer, pemOrDer.byteOffset, pemOrDer.byteLength);
  if (!der) throw new InvalidCertificate("no PEM certificate found");
  return `sha256:${createHash("sha256").update(der).digest("hex")}`;
}

export async function installUploadedCertificate(dir: string, certPem: string, keyPem: string, now = new Date()): Promise<void> {
  const chain = parseCertificates(certPem);
  const leaf = chain[0]!;
  if (leaf.notAfter <= now) throw new InvalidCertificate(`the certificate expired on ${leaf.notAfter.toISOString()}`);
  if (leaf.notBefore > now) throw new InvalidCertificate(`the certificate is not valid before ${leaf.notBefore.toISOString()}`);
  const key = normalizeKey(keyPem);
  await matchingKey(leaf, key.der);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Dropping the old certificate first means a crash between the two writes falls back to
  // the local certificate instead of pairing the new key with the old certificate.
  await rm(join(dir, "uploaded.crt"), { force: true });
  await writeAtomic(join(dir, "uploaded.key"), key.pem, 0o600);
  await writeAtomic(join(dir, "uploaded.crt"), chain.map(toPem).join(""), 0o644);
}

export async function removeUploadedCertificate(dir: string): Promise<void> {
  await rm(join(dir, "uploaded.crt"), { force: true });
  await rm(join(dir, "uploaded.key"), { force: true });
}

/**
 * The names the appliance answers to: the public URL's host, `extra` (the XMPP domain, which
 * agents also accept the certificate for: after a rename they keep the domain they enrolled
 * with), the host name, localhost, every address.
 */
export function defaultNames(publicUrl?: string, extra: readonly string[] = []): Names {
  const all: string[] = publicUrl ? [new URL(publicUrl).hostname.replace(/^\[|\]$/g, "")] : [];
  all.push(...extra);
  all.push(hostname(), "localhost", "127.0.0.1", "::1");
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) all.push(a.address);
  return normalizeNames({ dns: all, ips: [] });
}

function normalizeNames(names: Names): Names {
  const dns = new Set<string>();
  const ips = new Set<string>();
  for (const raw of [...names.dns, ...names.ips]) {
    const name = raw.trim().toLowerCase().replace(/%.*$/, "").replace(/\.$/, "");
    if (!name) continue;
    if (isIP(name)) ips.add(canonicalIp(name));
    else dns.add(name);
  }
  return { dns: [...dns], ips: [...ips] };
}

// IPv6 has many spellings of one address; the URL parser yields the canonical one.
function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]`).hostname.slice(1, -1) : ip;
}

async function loadCa(dir: string, names: Names, now: Date): Promise<Issued> {
  const pair = await readPair(dir, "ca");
  if (pair) {
    const cert = parseCertificates(pair.cert)[0]!;
    // A CA that no longer matches its key cannot be replaced silently: agents pin it.
    const keyPem = normalizeKey(pair.key);
    const key = await matchingKey(cert, keyPem.der).catch((e: Error) => {
      throw new Error(`${join(dir, "ca.key")} does not belong to ca.crt: ${e.message}`);
    });
    return { cert, key, pem: toPem(cert), keyPem: keyPem.pem };
  }
  const keys = (await crypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"])) as CryptoKeyPair;
  const label = [names.dns.find((n) => n !== "localhost"), randomBytes(3).toString("hex")].filter(Boolean).join(" ");
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: [{ CN: [`Medulla local CA ${label}`] }],
    notBefore: new Date(now.getTime() - BACKDATE),
    notAfter: new Date(now.getTime() + CA_DAYS * DAY),
    keys,
    signingAlgorithm: EC_SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  // The key goes first: a crash before the certificate is written leaves no ca.crt, so the
  // next start creates the CA again rather than pairing a certificate with the wrong key.
  const keyPem = await exportKey(keys.privateKey);
  await writeAtomic(join(dir, "ca.key"), keyPem, 0o600);
  await writeAtomic(join(dir, "ca.crt"), toPem(cert), 0o644);
  return { cert, key: keys.privateKey, pem: toPem(cert), keyPem };
}

/** The current server certificate, or null when it must be reissued. */
async function loadServer(dir: string, ca: Issued, names: Names, now: Date): Promise<Issued | null> {
  const pair = await readPair(dir, "server");
  if (!pair) return null;
  try {
    const cert = parseCertificates(pair.cert)[0]!;
    const renewAt = cert.notAfter.getTime() - RENEW_BEFORE_DAYS * DAY;
    if (cert.notBefore > now || now.getTime() >= renewAt || !covers(cert, names)) return null;
    if (!(await cert.verify({ publicKey: ca.cert.publicKey, signatureOnly: true }))) return null;
    const keyPem = normalizeKey(pair.key);
    const key = await matchingKey(cert, keyPem.der);
    return { cert, key, pem: toPem(cert), keyPem: keyPem.pem };
  } catch {
    // Unreadable or mismatched files (say, a crash between writing key and certificate)
    // are ours to replace.
    return null;
  }
}

async function issueServer(dir: string, ca: Issued, names: Names, now: Date): Promise<Issued> {
  const keys = (await crypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"])) as CryptoKeyPair;
  const notBefore = new Date(now.getTime() - BACKDATE);
  const cert = await x509.X509CertificateGenerator.create({
    subject: [{ CN: [names.dns[0] ?? names.ips[0]!] }],
    issuer: ca.cert.subjectName,
    notBefore,
    notAfter: new Date(notBefore.getTime() + SERVER_DAYS * DAY),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: EC_SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: "dns" as const, value })),
        ...names.ips.map((value) => ({ type: "ip" as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
    ],
  });
  const keyPem = await exportKey(keys.privateKey);
  await writeAtomic(join(dir, "server.key"), keyPem, 0o600);
  await writeAtomic(join(dir, "server.crt"), toPem(cert), 0o644);
  return { cert, key: keys.privateKey, pem: toPem(cert), keyPem };
}

async function loadUploaded(dir: string): Promise<CertBundle | null> {
  const pair = await readPair(dir, "uploaded");
  if (!pair) return null;
  try {
    const chain = parseCertificates(pair.cert);
    const key = normalizeKey(pair.key);
    await matchingKey(chain[0]!, key.der);
    const top = chain[chain.length - 1]!;
    return {
      cert: chain.map(toPem).join(""),
      key: key.pem,
      caCert: toPem(top),
      caFingerprint: fingerprint(top.rawData),
      source: "uploaded",
      notAfter: chain[0]!.notAfter,
    };
  } catch (e) {
    throw new Error(`the uploaded certificate in ${dir} is unusable (remove uploaded.crt to fall back): ${(e as Error).message}`);
  }
}

function covers(cert: X509Certificate, names: Names): boolean {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const have = new Set(san?.names.items.map((n) => `${n.type}:${n.type === "ip" ? canonicalIp(n.value) : n.value.toLowerCase()}`));
  return [...names.dns.map((n) => `dns:${n}`), ...names.ips.map((n) => `ip:${n}`)].every((n) => have.has(n));
}

/** Imports the key for signing after proving, by a signature over a random challenge, that it belongs to `cert`. */
async function matchingKey(cert: X509Certificate, pkcs8: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  const algorithm = cert.publicKey.algorithm as EcKeyImportParams;
  const params =
    algorithm.name === "ECDSA"
      ? { key: { name: "ECDSA", namedCurve: algorithm.namedCurve }, sign: EC_SIGN }
      : algorithm.name.startsWith("RSA")
        ? { key: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, sign: { name: "RSASSA-PKCS1-v1_5" } }
        : null;
  if (!params) throw new InvalidCertificate(`unsupported key type ${algorithm.name} (use an ECDSA or RSA key)`);
  const mismatch = new InvalidCertificate("the private key does not match the certificate");
  const key = await crypto.subtle.importKey("pkcs8", pkcs8, params.key, false, ["sign"]).catch(() => {
    throw mismatch;
  });
  const challenge = randomBytes(32);
  const signature = await crypto.subtle.sign(params.sign, key, challenge);
  const publicKey = await cert.publicKey.export(params.key, ["verify"]);
  if (!(await crypto.subtle.verify(params.sign, publicKey, signature, challenge))) throw mismatch;
  return key;
}

/** Accepts PKCS#8, PKCS#1 ("RSA PRIVATE KEY") and SEC1 ("EC PRIVATE KEY") PEM; yields PKCS#8. */
function normalizeKey(pem: string): { pem: string; der: Uint8Array<ArrayBuffer> } {
  try {
    const key = createPrivateKey({ key: pem, format: "pem" });
    return { pem: `${key.export({ type: "pkcs8", format: "pem" })}`, der: new Uint8Array(key.export({ type: "pkcs8", format: "der" })) };
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_MISSING_PASSPHRASE")
      throw new InvalidCertificate("the private key is encrypted; upload it without a passphrase");
    throw new InvalidCertificate("the private key is not a complete PEM private key");
  }
}

function parseCertificates(pem: string): X509Certificate[] {
  const blocks = pemBlocks(pem, "CERTIFICATE");
  if (!blocks.length)
    throw new InvalidCertificate("no complete PEM certificate found (expected -----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)");
  return blocks.map((der, i) => {
    try {
      return new x509.X509Certificate(der);
    } catch {
      throw new InvalidCertificate(`certificate ${i + 1} of the PEM is damaged or truncated`);
    }
  });
}

function pemBlocks(text: string, label: string): Uint8Array<ArrayBuffer>[] {
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]*?)-----END ${label}-----`, "g");
  return [...text.matchAll(re)].map((m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ""), "base64")));
}

function toPem(cert: X509Certificate): string {
  return `${cert.toString("pem")}\n`;
}

async function exportKey(key: CryptoKey): Promise<string> {
  return `${x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY")}\n`;
}

async function readPair(dir: string, base: string): Promise<{ cert: string; key: string } | null> {
  try {
    const [cert, key] = await Promise.all([readFile(join(dir, `${base}.crt`), "utf8"), readFile(join(dir, `${base}.key`), "utf8")]);
    return { cert, key };
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return null;
    throw e;
  }
}

