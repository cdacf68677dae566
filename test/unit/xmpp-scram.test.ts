import { describe, expect, test } from "bun:test";
import { offeredMechanisms, startExchange, type StoredAccount } from "../../src/net/xmpp/sasl.ts";
import { deriveCredentials, ScramClient, ScramServer, type ScramHash } from "../../src/net/xmpp/scram.ts";

const b64 = (s: string) => Buffer.from(s, "base64");

// RFC 5802 §5 (SCRAM-SHA-1) and RFC 7677 §3 (SCRAM-SHA-256): user "user", password "pencil".
const vectors: { hash: ScramHash; clientNonce: string; serverNonce: string; salt: string; clientFirst: string; serverFirst: string; clientFinal: string; serverFinal: string }[] = [
  {
    hash: "sha1",
    clientNonce: "fyko+d2lbbFgONRv9qkxdawL",
    serverNonce: "3rfcNHYJY1ZVvWVs7j",
    salt: "QSXCR+Q6sek8bf92",
    clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
    serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
    clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
  },
  {
    hash: "sha256",
    clientNonce: "rOprNGfwEbeRWgbNEkqO",
    serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
    salt: "W22ZaJ0SNY7soEsUEjb6gQ==",
    clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
    serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
  },
];

function account(password: string, salt?: Uint8Array, isDisabled = false): StoredAccount {
  return { ...deriveCredentials(password, 4096, salt), isDisabled };
}

function server(hash: ScramHash, accounts: Record<string, StoredAccount>, nonce = "SERVERNONCE") {
  return new ScramServer(hash, (u) => (accounts[u] ? { ...accounts[u]!, keys: accounts[u]![hash] } : null), () => nonce);
}

describe("SCRAM test vectors", () => {
  test.each(vectors)("$hash: the server side follows the RFC exchange", (v) => {
    const s = server(v.hash, { user: account("pencil", b64(v.salt)) }, v.serverNonce);
    expect(s.start(v.clientFirst)).toEqual({ type: "challenge", data: v.serverFirst });
    expect(s.finish(v.clientFinal)).toEqual({ type: "success", data: v.serverFinal, username: "user" });
  });

  test.each(vectors)("$hash: the client side follows the RFC exchange", (v) => {
    const c = new ScramClient(v.hash, "user", "pencil", v.clientNonce);
    expect(c.first()).toBe(v.clientFirst);
    expect(c.final(v.serverFirst)).toBe(v.clientFinal);
    expect(c.verify(v.serverFinal)).toBe(true);
    expect(c.verify("v=AAAA")).toBe(false);
  });
});

describe("ScramServer", () => {
  const accounts = { alice: account("wonderland"), bob: account("builder", undefined, true), "a,b=c": account("odd") };
  const login = (hash: ScramHash, user: string, password: string, gs2 = "n,,") => {
    const s = server(hash, accounts);
    const c = new ScramClient(hash, user, password, "CLIENTNONCE", gs2);
    const first = s.start(c.first());
    if (first.type !== "challenge") return first;
    return s.finish(c.final(first.data));
  };

  test.each(["sha1", "sha256"] as const)("%s: the right password succeeds, the server proves itself", (hash) => {
    const s = server(hash, accounts);
    const c = new ScramClient(hash, "alice", "wonderland");
    const first = s.start(c.first());
    const final = first.type === "challenge" ? s.finish(c.final(first.data)) : first;
    expect(final).toMatchObject({ type: "success", username: "alice" });
    expect(c.verify((final as { data: string }).data)).toBe(true);
  });

  test("a wrong password is a credential failure", () => {
    expect(login("sha256", "alice", "looking-glass")).toEqual({ type: "failure", condition: "not-authorized", text: undefined, isCredentialFailure: true });
  });

  test("an unknown user gets an ordinary-looking challenge and fails at the proof", () => {
    const s = server("sha256", accounts);
    const first = s.start("n,,n=mallory,r=abc");
    expect(first).toMatchObject({ type: "challenge" });
    expect((first as { data: string }).data).toMatch(/^r=abcSERVERNONCE,s=[A-Za-z0-9+/]{22}==,i=4096$/);
    expect(login("sha256", "mallory", "x")).toMatchObject({ type: "failure", condition: "not-authorized", isCredentialFailure: true });
  });

  test("a disabled account with the right password is told so; with a wrong one it is not", () => {
    expect(login("sha1", "bob", "builder")).toMatchObject({ type: "failure", condition: "account-disabled", isCredentialFailure: false });
    expect(login("sha1", "bob", "nope")).toMatchObject({ type: "failure", condition: "not-authorized" });
  });

  test("y,, is accepted (we offer no -PLUS); p= is refused politely", () => {
    expect(login("sha256", "alice", "wonderland", "y,,")).toMatchObject({ type: "success" });
    expect(server("sha256", accounts).start("p=tls-unique,,n=alice,r=abc")).toEqual({
      type: "failure", condition: "malformed-request", text: "channel binding is not supported; use n,, or y,,", isCredentialFailure: false,
    });
  });

  test("usernames with , and = travel escaped", () => {
    expect(login("sha256", "a,b=c", "odd")).toMatchObject({ type: "success", username: "a,b=c" });
    expect(server("sha256", accounts).start("n,,n=a=2Xb,r=abc")).toMatchObject({ condition: "malformed-request" });
  });

  const protocolErrors: [string, string, string | null, string][] = [
    ["no GS2 header", "n=alice,r=abc", null, "malformed-request"],
    ["a mandatory extension", "n,,m=ext,n=alice,r=abc", null, "malformed-request"],
    ["someone else's authzid", "n,a=bob,n=alice,r=abc", null, "invalid-authzid"],
    ["channel binding data that does not match the header", "n,,n=alice,r=abc", "c=eSws,r=abcSERVERNONCE,p=AAAA", "malformed-request"],
    ["a changed nonce", "n,,n=alice,r=abc", "c=biws,r=abcOTHER,p=AAAA", "malformed-request"],
    ["no proof", "n,,n=alice,r=abc", "c=biws,r=abcSERVERNONCE", "malformed-request"],
  ];

  test.each(protocolErrors)("%s is refused, not counted as a wrong password", (_label, first, final, condition) => {
    const s = server("sha256", accounts);
    const step = final === null ? s.start(first) : (s.start(first), s.finish(final));
    expect(step).toMatchObject({ type: "failure", condition, isCredentialFailure: false });
  });

  test("a replayed final message fails: the exchange is single-use", () => {
    const s = server("sha256", accounts);
    const c = new ScramClient("sha256", "alice", "wonderland");
    const first = s.start(c.first()) as { data: string };
    const final = c.final(first.data);
    expect(s.finish(final)).toMatchObject({ type: "success" });
    expect(s.finish(final)).toMatchObject({ type: "failure", condition: "malformed-request" });
  });
});

describe("deriveCredentials", () => {
  test("stores keys for both hashes from one salt, never the password", () => {
    const c = deriveCredentials("secret", 4096, new Uint8Array(16));
    expect(c.salt).toEqual(new Uint8Array(16));
    expect(c.sha1.storedKey).toHaveLength(20);
    expect(c.sha256.serverKey).toHaveLength(32);
    expect(Buffer.from(JSON.stringify(c)).includes("secret")).toBe(false);
    expect(deriveCredentials("secret").salt).not.toEqual(deriveCredentials("secret").salt);
  });
});

describe("SASL mechanisms", () => {
  const lookup = (u: string) => (u === "alice" ? account("wonderland") : null);

  test("PLAIN is offered and accepted only on an encrypted stream", () => {
    expect(offeredMechanisms(false)).toEqual(["SCRAM-SHA-256", "SCRAM-SHA-1"]);
    expect(offeredMechanisms(true)).toEqual(["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]);
    expect(startExchange("PLAIN", false, lookup)).toBeNull();
    const plain = startExchange("PLAIN", true, lookup)!;
    expect(plain.step("\0alice\0wonderland")).toEqual({ type: "success", data: "", username: "alice" });
    expect(startExchange("PLAIN", true, lookup)!.step("\0alice\0wrong")).toMatchObject({ type: "failure", condition: "not-authorized", isCredentialFailure: true });
    expect(startExchange("PLAIN", true, lookup)!.step("garbage")).toMatchObject({ type: "failure", condition: "malformed-request" });
  });

  test("an unknown mechanism is not started", () => {
    expect(startExchange("DIGEST-MD5", true, lookup)).toBeNull();
  });

  test("SCRAM without an initial response starts with an empty challenge", () => {
    const x = startExchange("SCRAM-SHA-1", true, lookup)!;
    expect(x.step("")).toEqual({ type: "challenge", data: "" });
    const c = new ScramClient("sha1", "alice", "wonderland");
    const first = x.step(c.first()) as { data: string };
    expect(x.step(c.final(first.data))).toMatchObject({ type: "success", username: "alice" });
  });
});
