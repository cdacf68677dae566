/**
 * @module net/xmpp/scram
 * SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677), both sides. Accounts keep only the
 * derived keys: one PBKDF2 call per hash turns a password into StoredKey and ServerKey.
 * The server refuses channel binding it cannot do (`p=`) and accepts `n,,` and `y,,`
 * (we advertise no -PLUS mechanism, so `y` is no downgrade). An unknown user gets a
 * challenge like any other (salt derived from a per-process secret) and fails at the proof,
 * so the exchange does not tell which accounts exist. The client side serves the tests and
 * any agent that wants a fast SCRAM (one PBKDF2 call instead of thousands of HMACs).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

export type ScramHash = "sha1" | "sha256";

export interface ScramKeys {
  storedKey: Uint8Array;
  serverKey: Uint8Array;
}

export interface ScramCredentials {
  salt: Uint8Array;
  iterations: number;
  sha1: ScramKeys;
  sha256: ScramKeys;
}

/** What the server knows of an account for one mechanism. */
export interface ScramSecret {
  salt: Uint8Array;
  iterations: number;
  keys: ScramKeys;
  isDisabled: boolean;
}

export const SCRAM_MECHANISMS: Record<string, ScramHash> = { "SCRAM-SHA-256": "sha256", "SCRAM-SHA-1": "sha1" };

const LENGTH: Record<ScramHash, number> = { sha1: 20, sha256: 32 };
const hmac = (hash: ScramHash, key: Uint8Array, data: string | Uint8Array) => new Uint8Array(createHmac(hash, key).update(data).digest());
const digest = (hash: ScramHash, data: Uint8Array) => new Uint8Array(createHash(hash).update(data).digest());
const b64 = (data: Uint8Array | string) => Buffer.from(data).toString("base64");

export function saltedPassword(hash: ScramHash, password: string, salt: Uint8Array, iterations: number): Uint8Array {
  return new Uint8Array(pbkdf2Sync(password.normalize("NFKC"), salt, iterations, LENGTH[hash], hash));
}

export function keysFromSalted(hash: ScramHash, salted: Uint8Array): ScramKeys {
  return { storedKey: digest(hash, hmac(hash, salted, "Client Key")), serverKey: hmac(hash, salted, "Server Key") };
}

export function deriveKeys(hash: ScramHash, password: string, salt: Uint8Array, iterations: number): ScramKeys {
  return keysFromSalted(hash, saltedPassword(hash, password, salt, iterations));
}

export function deriveCredentials(password: string, iterations = 4096, salt: Uint8Array = randomBytes(16)): ScramCredentials {
  return { salt, iterations, sha1: deriveKeys("sha1", password, salt, iterations), sha256: deriveKeys("sha256", password, salt, iterations) };
}

/** Constant-time check of a password against stored keys (used by SASL PLAIN). */
export function verifyPassword(hash: ScramHash, password: string, secret: Pick<ScramSecret, "salt" | "iterations" | "keys">): boolean {
  const { storedKey } = deriveKeys(hash, password, secret.salt, secret.iterations);
  return timingSafeEqual(storedKey, secret.keys.storedKey);
}

export type SaslFailureCondition =
  | "aborted" | "account-disabled" | "credentials-expired" | "encryption-required" | "incorrect-encoding"
  | "invalid-authzid" | "invalid-mechanism" | "malformed-request" | "mechanism-too-weak" | "not-authorized"
  | "temporary-auth-failure";

export type SaslStep =
  | { type: "challenge"; data: string }
  | { type: "success"; data: string; username: string }
  /** `isCredentialFailure`: counts toward the per-IP limit (a wrong password, not a protocol slip). */
  | { type: "failure"; condition: SaslFailureCondition; text?: string; isCredentialFailure: boolean };

const fail = (condition: SaslFailureCondition, text?: string, isCredentialFailure = false): SaslStep => ({ type: "failure", condition, text, isCredentialFailure });

/** RFC 5802 §5.1 saslname: "=2C" is ",", "=3D" is "="; any other "=" is malformed. */
function decodeName(value: string): string | null {
  if (/=(?!2C|3D)/.test(value)) return null;
  return value.replace(/=2C/g, ",").replace(/=3D/g, "=");
}

const encodeName = (value: string) => value.replace(/=/g, "=3D").replace(/,/g, "=2C");
const PRINTABLE_NONCE = /^[\x21-\x2B\x2D-\x7E]+$/;
const fakeSecret = randomBytes(32);

/** One server-side SCRAM exchange: `start` with client-first, `finish` with client-final. */
export class ScramServer {
  #step: "first" | "final" | "done" = "first";
  #gs2 = "";
  #clientFirstBare = "";
  #serverFirst = "";
  #nonce = "";
  #username = "";
  #secret: ScramSecret | null = null;

  constructor(
    readonly hash: ScramHash,
    private readonly lookup: (username: string) => ScramSecret | null,
    private readonly serverNonce: () => string = () => randomBytes(18).toString("base64"),
  ) {}

  start(message: string): SaslStep {
    if (this.#step !== "first") return fail("malformed-request", "unexpected client-first message");
    const m = /^([nyp])(=[^,]*)?,(a=[^,]*)?,(.*)$/s.exec(message);
    if (!m) return fail("malformed-request", "bad GS2 header");
    if (m[1] === "p") return fail("malformed-request", "channel binding is not supported; use n,, or y,,");
    if (m[2]) return fail("malformed-request", "bad GS2 header");
    this.#gs2 = `${m[1]}${m[2] ?? ""},${m[3] ?? ""},`;
    this.#clientFirstBare = m[4]!;
    const parts = this.#clientFirstBare.split(",");
    if (parts[0]?.startsWith("m=")) return fail("malformed-request", "mandatory extensions are not supported");
    const user = parts[0]?.startsWith("n=") ? decodeName(parts[0].slice(2)) : null;
    const nonce = parts[1]?.startsWith("r=") ? parts[1].slice(2) : "";
    if (!user || !PRINTABLE_NONCE.test(nonce) || nonce.length > 256) return fail("malformed-request", "bad client-first message");
    const authzid = m[3] ? decodeName(m[3].slice(2)) : null;
    this.#username = user;
    if (m[3] && authzid !== user && !authzid?.startsWith(`${user}@`)) return fail("invalid-authzid");
    this.#secret = this.lookup(user);
    const salt = this.#secret?.salt ?? hmac("sha256", fakeSecret, user).slice(0, 16);
    const iterations = this.#secret?.iterations ?? 4096;
    this.#nonce = nonce + this.serverNonce();
    this.#serverFirst = `r=${this.#nonce},s=${b64(salt)},i=${iterations}`;
    this.#step = "final";
    return { type: "challenge", data: this.#serverFirst };
  }

  finish(message: string): SaslStep {
    if (this.#step !== "final") return fail("malformed-request", "unexpected client-final message");
    this.#step = "done";
    const proofAt = message.lastIndexOf(",p=");
    if (proofAt < 0) return fail("malformed-request", "no proof");
    const withoutProof = message.slice(0, proofAt);
    const attrs = withoutProof.split(",");
    if (attrs[0] !== `c=${b64(this.#gs2)}`) return fail("malformed-request", "channel binding data does not match the GS2 header");
    if (attrs[1] !== `r=${this.#nonce}`) return fail("malformed-request", "nonce mismatch");
    const proof = Buffer.from(message.slice(proofAt + 3), "base64");
    const secret = this.#secret;
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`;
    const storedKey = secret?.keys.storedKey ?? randomBytes(LENGTH[this.hash]);
    const signature = hmac(this.hash, storedKey, authMessage);
    const clientKey = proof.length === signature.length ? proof.map((b, i) => b ^ signature[i]!) : new Uint8Array(signature.length);
    const isValid = timingSafeEqual(digest(this.hash, clientKey), storedKey) && proof.length === signature.length && !!secret;
    if (!isValid) return fail("not-authorized", undefined, true);
    if (secret.isDisabled) return fail("account-disabled");
    return { type: "success", data: `v=${b64(hmac(this.hash, secret.keys.serverKey, authMessage))}`, username: this.#username };
  }
}

/** The client side of one exchange. */
export class ScramClient {
  #clientFirstBare: string;
  #serverSignature: Uint8Array | null = null;

  constructor(
    readonly hash: ScramHash,
    readonly username: string,
    private readonly password: string,
    private readonly nonce = randomBytes(18).toString("base64"),
    private readonly gs2 = "n,,",
  ) {
    this.#clientFirstBare = `n=${encodeName(username)},r=${nonce}`;
  }

  first(): string {
    return this.gs2 + this.#clientFirstBare;
  }

  /** Answers the server-first message; throws when it is not a valid one for our nonce. */
  final(serverFirst: string): string {
    const attrs = Object.fromEntries(serverFirst.split(",").map((p) => [p.slice(0, 1), p.slice(2)]));
    if (!attrs.r?.startsWith(this.nonce) || !attrs.s || !/^\d+$/.test(attrs.i ?? "")) throw new Error("bad server-first message");
    const salted = saltedPassword(this.hash, this.password, Buffer.from(attrs.s, "base64"), Number(attrs.i));
    const clientKey = hmac(this.hash, salted, "Client Key");
    const withoutProof = `c=${b64(this.gs2)},r=${attrs.r}`;
    const authMessage = `${this.#clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(this.hash, digest(this.hash, clientKey), authMessage);
    this.#serverSignature = hmac(this.hash, hmac(this.hash, salted, "Server Key"), authMessage);
    return `${withoutProof},p=${b64(clientKey.map((b, i) => b ^ signature[i]!))}`;
  }

  /** Whether the server-final message proves the server knows our keys. */
  verify(serverFinal: string): boolean {
    const expected = this.#serverSignature;
    if (!expected || !serverFinal.startsWith("v=")) return false;
    const got = Buffer.from(serverFinal.slice(2), "base64");
    return got.length === expected.length && timingSafeEqual(got, expected);
  }
}
