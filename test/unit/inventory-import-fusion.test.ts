/**
 * FusionInventory's XML (src/features/inventory/fusion.ts, xml.ts): a capture of the
 * Debian agent on this kind of machine, a Windows inventory in ISO-8859-1, the PROLOG,
 * and hostile documents: entity bombs, external entities, truncation, a wrong root,
 * undeclared entities, broken tags, too deep, undecodable encodings.
 */
import { describe, expect, test } from "bun:test";
import { parseFusion } from "../../src/features/inventory/fusion.ts";
import { normalize } from "../../src/features/inventory/glpi.ts";
import { InventoryError } from "../../src/features/inventory/normalized.ts";
import { fixtureBytes, fixtureText } from "../fixtures/inventory/factory.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);

function refusal(bytes: Uint8Array): { kind: string; reason: string } {
  try {
    parseFusion(bytes);
  } catch (err) {
    if (err instanceof InventoryError) return { kind: err.kind, reason: err.reason };
    throw err;
  }
  throw new Error("not refused");
}

const inventoryOf = (bytes: Uint8Array) => {
  const msg = parseFusion(bytes);
  if (msg.query !== "INVENTORY") throw new Error(`got ${msg.query}`);
  return msg;
};

describe("FusionInventory messages", () => {
  test("PROLOG", () => {
    expect(parseFusion(fixtureBytes("fusion-prolog.xml"))).toEqual({ query: "PROLOG", deviceId: "vm-2026-11-28-16-43-27" });
  });

  test("the Debian agent's inventory becomes GLPI JSON, then rows", () => {
    const msg = inventoryOf(fixtureBytes("fusion-debian-vm.xml"));
    const c = msg.document.content as Record<string, any>;
    expect(msg.deviceId).toBe("vm-2026-11-28-16-43-27");
    expect(msg.encoding).toBe("utf-8");
    // Lists stay lists, empty fields are dropped, numbers and booleans are typed, MACADDR is mac.
    expect(c.softwares.length).toBe(40);
    expect(c.bios).toEqual({});
    expect(c.hardware.memory).toBe(24105);
    expect(c.networks[0]).toEqual({ description: "lo", ipaddress: "127.0.0.1", ipmask: "255.0.0.0", ipsubnet: "127.0.0.0", mac: "00:00:00:00:00:00", status: "Up", type: "loopback", virtualdev: true });
    expect(c.storages[0].serial).toBe("overlayblk");
    expect(c.versionprovider.comments).toEqual(["Built by Debian", "Source time: 2022-12-02 16:25"]);
    // Kept as received: parts we do not read.
    expect(c.local_users.length).toBe(3);
    expect(c.processes.length).toBe(3);

    const n = normalize(msg.document);
    expect(n.identity).toEqual({ hostname: "vm", uuid: "", manufacturer: "", serial: "", macs: ["02:fc:00:00:00:01"], agentId: "", deviceId: "vm-2026-11-28-16-43-27" });
    expect(n.agentVersion).toBe("FusionInventory-Agent_v2.6-3");
    expect(n.machine).toEqual({ os: "linux", osName: "Debian GNU/Linux", osVersion: "12.11", arch: "x64", ips: ["192.0.2.2", "fd00::2"], lastUser: "wtmp" });
    expect(n.software!.length).toBe(40);
    expect(n.software![0]).toEqual({ name: "adduser", version: "3.134", version_key: "0000000003.0000000134", publisher: "Debian", arch: "all", source: "deb", install_date: "", size_kb: 686 });
    expect(n.partitions).toEqual([{ mount: "/", device: "/dev/vda", filesystem: "ext4", label: "", total_mb: 258019, free_mb: 80211 }]);
  });

  test("a Windows inventory in ISO-8859-1", () => {
    const bytes = fixtureBytes("fusion-windows-latin1.xml");
    expect(bytes.includes(0xc9)).toBe(true); // "É" as one latin-1 byte
    const msg = inventoryOf(bytes);
    expect(msg.encoding).toBe("windows-1252");
    const n = normalize(msg.document);
    expect(n.software!.map((s) => [s.name, s.publisher])).toEqual([
      ["Logiciel État Civil", "Société Berger-Levrault"], ["7-Zip 22.01 (x64)", "Igor Pavlov"], ["Mise à jour Java 8 Update 391", "Oracle Corporation"],
    ]);
    expect(n.software![0]!.install_date).toBe("14/02/2024");
    expect(n.partitions).toEqual([{ mount: "C:", device: "", filesystem: "NTFS", label: "Système", total_mb: 243342, free_mb: 142217 }]);
    expect(n.identity).toEqual({ hostname: "ACCUEIL-MAIRIE", uuid: "8B1D6E4C-2F3A-11EC-9A2B-F0A654C3D2E1", manufacturer: "LENOVO", serial: "MJ0FA1B2", macs: ["88:ae:dd:1c:4f:20"], agentId: "", deviceId: "ACCUEIL-MAIRIE-2021-10-19-09-14-55" });
    expect(n.memories!.map((m) => [m.slot, m.capacity_mb])).toEqual([["1", 16384], ["2", null]]);
    expect((msg.document.content as Record<string, any>).networks[0].pnpdeviceid).toBe("PCI\\VEN_8086&DEV_0D4C&SUBSYS_312D17AA&REV_00\\3&11583659&0&FE");
  });

  test("declared UTF-8 but is not: read as Windows-1252 rather than refused", () => {
    const xml = '<?xml version="1.0" encoding="UTF-8"?><REQUEST><CONTENT><HARDWARE><NAME>caf\u00e9</NAME></HARDWARE></CONTENT><QUERY>INVENTORY</QUERY></REQUEST>';
    const bytes = Buffer.from(xml, "latin1");
    const msg = inventoryOf(bytes);
    expect(msg.isRecovered).toBe(true);
    expect(normalize(msg.document).identity.hostname).toBe("café");
  });

  test("UTF-16 with a byte-order mark, comments, CDATA, character references", () => {
    const text = `<?xml version="1.0" encoding="UTF-16"?><!-- agent 2.6 --><REQUEST><CONTENT><HARDWARE><NAME><![CDATA[pc<1>]]></NAME><WORKGROUP>A&amp;B &#233;</WORKGROUP></HARDWARE></CONTENT><QUERY>INVENTORY</QUERY></REQUEST>`;
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
    const n = normalize(inventoryOf(bytes).document);
    expect([n.hardware!.name, n.hardware!.workgroup]).toEqual(["pc<1>", "A&B é"]);
  });

  test("old OCS agents without <OPERATINGSYSTEM>: the OS comes from <HARDWARE>", () => {
    const xml = `<REQUEST><CONTENT><HARDWARE><NAME>old</NAME><OSNAME>Microsoft Windows XP Professional</OSNAME><OSVERSION>5.1.2600</OSVERSION><OSCOMMENTS>Service Pack 3</OSCOMMENTS></HARDWARE></CONTENT><DEVICEID>old-2010-01-01-00-00-00</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>`;
    const n = normalize(inventoryOf(utf8(xml)).document);
    expect(n.os).toEqual({ name: "Microsoft Windows XP Professional", version: "5.1.2600", full_name: "Microsoft Windows XP Professional", kernel: "", arch: "", service_pack: "Service Pack 3", install_date: "", timezone: "" });
    expect(n.machine.os).toBe("windows");
  });
});

describe("hostile XML", () => {
  test("an entity expansion bomb is refused before anything expands", () => {
    const started = performance.now();
    expect(refusal(fixtureBytes("hostile-billion-laughs.xml"))).toEqual({ kind: "restricted_xml", reason: "XML refused: DOCTYPE and DTDs are not accepted (no entity expansion, no external entities)" });
    expect(performance.now() - started).toBeLessThan(200);
  });

  test("an external entity is refused, nothing is read", () => {
    expect(refusal(fixtureBytes("hostile-xxe.xml"))).toEqual({ kind: "restricted_xml", reason: "XML refused: DOCTYPE and DTDs are not accepted (no entity expansion, no external entities)" });
  });

  test("an undeclared entity reference, a markup declaration, a processing instruction", () => {
    expect(refusal(utf8("<REQUEST><QUERY>&xxe;</QUERY></REQUEST>"))).toEqual({ kind: "restricted_xml", reason: "XML refused: entity references other than &amp; &lt; &gt; &quot; &apos; are not accepted" });
    expect(refusal(utf8('<!ENTITY x "y"><REQUEST/>'))).toEqual({ kind: "restricted_xml", reason: "XML refused: markup declarations (ENTITY, ELEMENT, ...) are not accepted" });
    expect(refusal(utf8('<REQUEST><?php echo 1 ?></REQUEST>')).reason).toBe("XML refused: processing instructions are not accepted");
  });

  test("truncated documents, wherever the cut", () => {
    const whole = fixtureText("fusion-debian-vm.xml");
    for (const at of [0, 10, 200, whole.length / 3, whole.length - 20]) {
      const r = refusal(utf8(whole.slice(0, Math.floor(at))));
      expect([at, r.kind]).toEqual([at, "malformed"]);
      expect(r.reason).toMatch(/truncated|no root element/);
    }
    expect(refusal(utf8(whole.slice(0, whole.indexOf("</REQUEST>"))))).toEqual({ kind: "malformed", reason: "XML truncated: <REQUEST> is not closed" });
  });

  test("the wrong root, a missing or unknown query, a missing content", () => {
    expect(refusal(fixtureBytes("hostile-wrong-root.xml"))).toEqual({ kind: "invalid", reason: "the root element must be <REQUEST>, not <REPLY>" });
    expect(refusal(utf8("<REQUEST><DEVICEID>x</DEVICEID></REQUEST>"))).toEqual({ kind: "unsupported", reason: "<QUERY> is missing" });
    expect(refusal(utf8("<REQUEST><QUERY>SNMPQUERY</QUERY></REQUEST>"))).toEqual({ kind: "unsupported", reason: "query SNMPQUERY is not supported (only PROLOG and INVENTORY)" });
    expect(refusal(utf8("<REQUEST><QUERY>INVENTORY</QUERY></REQUEST>"))).toEqual({ kind: "invalid", reason: "<CONTENT> is missing" });
  });

  test("broken markup", () => {
    expect(refusal(utf8("<REQUEST><QUERY>PROLOG</DEVICEID></REQUEST>"))).toEqual({ kind: "malformed", reason: "XML: </DEVICEID> does not close <QUERY>" });
    expect(refusal(utf8("<REQUEST a=1><QUERY>PROLOG</QUERY></REQUEST>")).kind).toBe("malformed");
    expect(refusal(utf8("<REQUEST><QUERY>PROLOG</QUERY></REQUEST><REQUEST/>"))).toEqual({ kind: "malformed", reason: "XML: content after the root element" });
    expect(refusal(utf8("hello <REQUEST/>")).kind).toBe("malformed");
    expect(refusal(utf8("<REQUEST>A & B</REQUEST>")).kind).toBe("malformed");
  });

  test("too deep; a repeated section that must be single; a list made of text", () => {
    const deep = `<REQUEST><QUERY>INVENTORY</QUERY><CONTENT>${"<A>".repeat(40)}${"</A>".repeat(40)}</CONTENT></REQUEST>`;
    expect(refusal(utf8(deep))).toEqual({ kind: "too_large", reason: "XML nested deeper than 32 levels" });
    expect(refusal(utf8("<REQUEST><QUERY>INVENTORY</QUERY><CONTENT><HARDWARE><NAME>a</NAME></HARDWARE><HARDWARE><NAME>b</NAME></HARDWARE></CONTENT></REQUEST>"))).toEqual({ kind: "invalid", reason: "content.hardware: expected an object" });
    expect(refusal(utf8("<REQUEST><QUERY>INVENTORY</QUERY><CONTENT><SOFTWARES>7-Zip</SOFTWARES></CONTENT></REQUEST>"))).toEqual({ kind: "invalid", reason: "content.softwares[0]: expected an object" });
  });

  test("an encoding nobody can read", () => {
    expect(refusal(utf8('<?xml version="1.0" encoding="x-klingon"?><REQUEST/>'))).toEqual({ kind: "unsupported", reason: 'unsupported XML encoding "x-klingon"' });
  });

  test("stray control characters are dropped, not refused", () => {
    const xml = "<REQUEST><CONTENT><SOFTWARES><NAME>Bad\u0001Name</NAME></SOFTWARES></CONTENT><QUERY>INVENTORY</QUERY></REQUEST>";
    expect(normalize(inventoryOf(utf8(xml)).document).software![0]!.name).toBe("BadName");
  });
});
