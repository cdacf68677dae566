/**
 * @module auth/password
 * Argon2id hashing (Bun.password), the strength rule shown on every password form,
 * and generated passwords for first start and resets.
 */

export async function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 });
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await Bun.password.verify(password, hash);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;
/** Verifies against a throwaway hash so an unknown login costs as much time as a known one. */
export async function burnVerifyTime(password: string): Promise<void> {
  dummyHash ??= hashPassword(crypto.randomUUID());
  await verifyPassword(password, await dummyHash);
}

/** At least 10 characters, some letters, and at least one digit or symbol; at most 1024. */
export function isStrongPassword(password: string): boolean {
  return (
    password.length >= 10 &&
    password.length <= 1024 &&
    /\p{L}/u.test(password) &&
    /[\p{N}\p{P}\p{S}]/u.test(password)
  );
}

const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
/** 16 characters without look-alikes (0/O, 1/l/I), always with a digit: easy to type from a console. */
export function generatePassword(length = 16): string {
  const limit = 256 - (256 % alphabet.length); // reject bytes past it: no modulo bias
  for (;;) {
    let out = "";
    while (out.length < length) {
      for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
        if (b < limit && out.length < length) out += alphabet[b % alphabet.length];
      }
    }
    if (/\d/.test(out) && /[a-z]/.test(out) && /[A-Z]/.test(out)) return out;
  }
}
