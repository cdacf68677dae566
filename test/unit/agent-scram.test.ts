import { describe, expect, test } from "bun:test";
import { clientFinal, saltedPassword, saslname, saslprep, scramMechanism, ScramError, verifyServerFinal, type ScramState } from "../../agent/src/xmpp/scram.ts";

// RFC 5802 section 5 and RFC 7677 section 3: user "user", password "pencil".
const SHA1 = {
  cnonce: "fyko+d2lbbFgONRv9qkxdawL",
  serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
  clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
  serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
};
const SHA256 = {
  cnonce: "rOprNGfwEbeRWgbNEkqO",
  serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
  clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
  serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
};

describe("fast SCRAM", () => {
  test("RFC 5802 SCRAM-SHA-1 vector", async () => {
    const r = await clientFinal("SHA-1", "pencil", `n=user,r=${SHA1.cnonce}`, SHA1.serverFirst, SHA1.cnonce);
    expect(r.message).toBe(SHA1.clientFinal);
    expect(verifyServerFinal(SHA1.serverFinal, r.serverSignature)).toBe(true);
  });

  test("RFC 7677 SCRAM-SHA-256 vector", async () => {
    const r = await clientFinal("SHA-256", "pencil", `n=user,r=${SHA256.cnonce}`, SHA256.serverFirst, SHA256.cnonce);
    expect(r.message).toBe(SHA256.clientFinal);
    expect(verifyServerFinal(SHA256.serverFinal, r.serverSignature)).toBe(true);
    expect(verifyServerFinal("v=AAAA", r.serverSignature)).toBe(false);
    expect(verifyServerFinal("e=other-error", r.serverSignature)).toBe(false);
  });

  test("the mechanism object walks the exchange as @xmpp/sasl drives it", async () => {
    const Mech = scramMechanism("SHA-256", () => SHA256.cnonce);
    const m = new Mech();
    const state: ScramState = {};
    const cred = { username: "user", password: "pencil", scram: state };
    expect(await m.response(cred)).toBe(`n,,n=user,r=${SHA256.cnonce}`);
    m.challenge(SHA256.serverFirst);
    expect(await m.response(cred)).toBe(SHA256.clientFinal);
    expect(verifyServerFinal(SHA256.serverFinal, state.serverSignature!)).toBe(true);
    // A server that sends its final message as a challenge.
    m.challenge(SHA256.serverFinal);
    expect(await m.response(cred)).toBe("");
    expect(state.serverFinal).toBe(SHA256.serverFinal);
  });

  test("one PBKDF2 call: 10,000 iterations well under the stock 0.7 s", async () => {
    const started = performance.now();
    await saltedPassword("SHA-1", `pw-${Math.random()}`, Buffer.from("salt-salt-salt"), 10_000);
    expect(performance.now() - started).toBeLessThan(200);
  });

  test("hostile server-first messages are refused", async () => {
    const bad = (serverFirst: string) => clientFinal("SHA-256", "pencil", "n=user,r=abc", serverFirst, "abc");
    await expect(bad("r=xyz123,s=c2FsdA==,i=4096")).rejects.toThrow(ScramError);
    await expect(bad("r=abc,s=c2FsdA==,i=4096")).rejects.toThrow("nonce");
    await expect(bad("r=abcdef,s=,i=4096")).rejects.toThrow("salt");
    await expect(bad("r=abcdef,s=c2FsdA==,i=1")).rejects.toThrow("iteration");
    await expect(bad("r=abcdef,s=c2FsdA==,i=2000000000")).rejects.toThrow("iteration");
    await expect(bad("m=ext,r=abcdef,s=c2FsdA==,i=4096")).rejects.toThrow("extension");
    await expect(bad("e=invalid-proof")).rejects.toThrow("refused");
  });

  test("saslname escapes and SASLprep", () => {
    expect(saslname("a,b=c")).toBe("a=2Cb=3Dc");
    expect(saslprep("I\u00ADX")).toBe("IX");
    expect(saslprep("a\u00A0b")).toBe("a b");
    expect(saslprep("\u2168")).toBe("IX");
    expect(saslprep("plain-ASCII_pw")).toBe("plain-ASCII_pw");
  });
});
