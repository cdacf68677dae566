/**
 * @module account/user-agent
 * A User-Agent header summarized for people ("Firefox 128", "Windows"): enough to tell
 * one's sessions apart, not a full parser. Order matters: Edge and Opera also say Chrome,
 * Chrome also says Safari, and Android also says Linux.
 */

const browsers: [RegExp, string][] = [
  [/Edg(?:e|A|iOS)?\/(\d+)/, "Edge"],
  [/OPR\/(\d+)/, "Opera"],
  [/Firefox\/(\d+)/, "Firefox"],
  [/FxiOS\/(\d+)/, "Firefox"],
  [/CriOS\/(\d+)/, "Chrome"],
  [/Chrom(?:e|ium)\/(\d+)/, "Chrome"],
  [/Version\/(\d+)[.\d]* (?:Mobile\/\S+ )?Safari\//, "Safari"],
  [/^curl\/(\d+)/, "curl"],
  [/^Wget\/(\d+)/, "Wget"],
  [/python-requests\/(\d+)/, "Python requests"],
];

const systems: [RegExp, string][] = [
  [/Windows NT/, "Windows"],
  [/iPhone|iPad|iPod/, "iOS"],
  [/Android/, "Android"],
  [/CrOS/, "ChromeOS"],
  [/Mac OS X|Macintosh/, "macOS"],
  [/Linux|X11/, "Linux"],
];

export interface AgentSummary {
  browser: string | null;
  os: string | null;
}

export function summarizeUserAgent(ua: string): AgentSummary {
  let browser: string | null = null;
  for (const [re, name] of browsers) {
    const m = re.exec(ua);
    if (m) {
      browser = `${name} ${m[1]}`;
      break;
    }
  }
  const os = systems.find(([re]) => re.test(ua))?.[1] ?? null;
  return { browser, os };
}
