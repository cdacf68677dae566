import { describe, expect, test } from "bun:test";
import { base32Decode, base32Encode, generateSecret, hotp, matchStep, otpauthUri, stepAt, totp } from "../../src/features/auth/totp.ts";
import { qrSvg } from "../../src/features/account/qr.ts";
import { summarizeUserAgent } from "../../src/features/account/user-agent.ts";

const ascii = (s: string) => new TextEncoder().encode(s);

describe("TOTP (RFC 6238)", () => {
  // RFC 6238 Appendix B, SHA-1 rows: the 20-byte ASCII key "12345678901234567890", 8 digits.
  const key = ascii("12345678901234567890");
  const vectors: [number, string][] = [
    [59, "94287082"],
    [1111111109, "07081804"],
    [1111111111, "14050471"],
    [1234567890, "89005924"],
    [2000000000, "69279037"],
    [20000000000, "65353130"],
  ];
  for (const [seconds, code] of vectors) {
    test(`T = ${seconds} s gives ${code}`, () => {
      expect(totp(key, seconds * 1000, 8)).toBe(code);
    });
  }

  test("RFC 4226 Appendix D HOTP values, 6 digits", () => {
    const expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
    expect(expected.map((_, i) => hotp(key, i))).toEqual(expected);
  });

  test("base32 follows RFC 4648 and round-trips", () => {
    const cases: [string, string][] = [["", ""], ["f", "MY"], ["fo", "MZXQ"], ["foo", "MZXW6"], ["foob", "MZXW6YQ"], ["fooba", "MZXW6YTB"], ["foobar", "MZXW6YTBOI"]];
    for (const [plain, coded] of cases) {
      expect(base32Encode(ascii(plain))).toBe(coded);
      expect(new TextDecoder().decode(base32Decode(`${coded.toLowerCase()}====`)!)).toBe(plain);
    }
    expect(base32Decode("MZ1W")).toBeNull();
    const secret = generateSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Encode(base32Decode(secret)!)).toBe(secret);
  });

  test("a code is accepted one step either side of now, not two", () => {
    const now = 1_700_000_000_000;
    const step = stepAt(now);
    for (const delta of [-1, 0, 1]) expect(matchStep(key, hotp(key, step + delta), now, 0)).toBe(step + delta);
    for (const delta of [-2, 2]) expect(matchStep(key, hotp(key, step + delta), now, 0)).toBeNull();
    expect(matchStep(key, "12345", now, 0)).toBeNull();
    expect(matchStep(key, "abcdef", now, 0)).toBeNull();
    expect(matchStep(key, `${hotp(key, step).slice(0, 3)} ${hotp(key, step).slice(3)}`, now, 0)).toBe(step);
  });

  test("a used step, and any step before it, is refused: no replay", () => {
    const now = 1_700_000_000_000;
    const step = stepAt(now);
    const code = hotp(key, step);
    expect(matchStep(key, code, now, step)).toBeNull();
    expect(matchStep(key, hotp(key, step - 1), now, step)).toBeNull();
    expect(matchStep(key, hotp(key, step + 1), now, step)).toBe(step + 1);
  });

  test("the otpauth URI names the issuer, the account and the parameters apps need", () => {
    expect(otpauthUri("JBSWY3DPEHPK3PXP", "alice@example.org")).toBe(
      "otpauth://totp/Medulla:alice%40example.org?secret=JBSWY3DPEHPK3PXP&issuer=Medulla&algorithm=SHA1&digits=6&period=30",
    );
  });
});

describe("QR code", () => {
  test("is an SVG of unit squares with a quiet zone, sized for an otpauth URI", () => {
    const uri = otpauthUri(generateSecret(), "alice");
    const svg = qrSvg(uri, { title: "<QR & co>" });
    const side = Number(/viewBox="0 0 (\d+) \1"/.exec(svg)?.[1]);
    // Versions 4-7 (33-45 modules) plus 4 modules of quiet zone each side.
    expect(side).toBeGreaterThanOrEqual(33 + 8);
    expect(side).toBeLessThanOrEqual(45 + 8);
    expect(svg).toStartWith('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain("<title>&#60;QR &#38; co&#62;</title>");
    expect(svg).not.toContain("style");
    // Finder pattern: the top-left 7×7 ring starts at the quiet zone's edge.
    expect(svg).toContain('d="M4 4h1v1h-1zM5 4h1v1h-1z');
  });
});

describe("user agents", () => {
  test("are summarized as browser and system", () => {
    const cases: [string, { browser: string | null; os: string | null }][] = [
      ["Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", { browser: "Firefox 128", os: "Linux" }],
      ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", { browser: "Edge 126", os: "Windows" }],
      ["Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", { browser: "Safari 17", os: "macOS" }],
      ["Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36", { browser: "Chrome 126", os: "Android" }],
      ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", { browser: "Safari 17", os: "iOS" }],
      ["curl/8.5.0", { browser: "curl 8", os: null }],
      ["", { browser: null, os: null }],
    ];
    expect(cases.map(([ua]) => summarizeUserAgent(ua))).toEqual(cases.map(([, s]) => s));
  });
});
