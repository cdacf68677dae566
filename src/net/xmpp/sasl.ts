/**
 * @module net/xmpp/sasl
 * SASL mechanisms offered on a stream and one exchange at a time (RFC 6120 §6): SCRAM
 * (via `scram.ts`) and PLAIN, which carries the password itself and so is offered and
 * accepted only on an encrypted stream. Payloads are the decoded bytes as text; the
 * base64 layer and the XML live in the stream. Pure: account lookup is a function argument.
 */
import { SCRAM_MECHANISMS, ScramServer, verifyPassword, type SaslStep, type ScramHash, type ScramKeys } from "./scram.ts";

export interface StoredAccount {
  salt: Uint8Array;
  iterations: number;
  sha1: ScramKeys;
  sha256: ScramKeys;
  isDisabled: boolean;
}

export type AccountLookup = (username: string) => StoredAccount | null;

export interface SaslExchange {
  /** Feeds the next client payload (the initial response first; "" when none). */
  step(payload: string): SaslStep;
}

export function offeredMechanisms(isSecure: boolean): string[] {
  return isSecure ? [...Object.keys(SCRAM_MECHANISMS), "PLAIN"] : Object.keys(SCRAM_MECHANISMS);
}

/** Starts an exchange; null when the mechanism is not offered on this stream. */
export function startExchange(mechanism: string, isSecure: boolean, lookup: AccountLookup): SaslExchange | null {
  if (!offeredMechanisms(isSecure).includes(mechanism)) return null;
  if (mechanism === "PLAIN") return plain(lookup);
  const hash: ScramHash = SCRAM_MECHANISMS[mechanism]!;
  const server = new ScramServer(hash, (user) => {
    const account = lookup(user);
    return account && { salt: account.salt, iterations: account.iterations, keys: account[hash], isDisabled: account.isDisabled };
  });
  let isFirst = true;
  return {
    step(payload) {
      if (!isFirst) return server.finish(payload);
      isFirst = false;
      // RFC 6120 §6.4.2: no initial response means an empty challenge, then client-first.
      if (payload === "") {
        isFirst = true;
        return { type: "challenge", data: "" };
      }
      return server.start(payload);
    },
  };
}

/** RFC 4616: `authzid NUL authcid NUL password`. */
function plain(lookup: AccountLookup): SaslExchange {
  let asked = false;
  return {
    step(payload) {
      if (payload === "" && !asked) {
        asked = true;
        return { type: "challenge", data: "" };
      }
      const parts = payload.split("\0");
      if (parts.length !== 3 || !parts[1] || !parts[2]) return { type: "failure", condition: "malformed-request", isCredentialFailure: false };
      const [authzid, username, password] = parts as [string, string, string];
      if (authzid && authzid !== username && !authzid.startsWith(`${username}@`)) return { type: "failure", condition: "invalid-authzid", isCredentialFailure: false };
      const account = lookup(username);
      const isValid = account ? verifyPassword("sha256", password, { salt: account.salt, iterations: account.iterations, keys: account.sha256 }) : false;
      if (!account || !isValid) return { type: "failure", condition: "not-authorized", isCredentialFailure: true };
      if (account.isDisabled) return { type: "failure", condition: "account-disabled", isCredentialFailure: false };
      return { type: "success", data: "", username };
    },
  };
}
