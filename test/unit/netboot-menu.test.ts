import { describe, expect, test } from "bun:test";
import { ipxeName, ipxeText, machineMenu, registrationMenu, startScript } from "../../src/features/netboot/menu.ts";

const services = [
  { code: "localdisk", label: "Disque local", script: "exit 0" },
  { code: "shell", label: "Shell", script: "shell" },
  { code: "custom-7", label: "Evil ${x} #c\nmenu pwned", script: "#!ipxe\necho hi\r\n\n" },
];
const texts = { choose: "Choisissez", woke: "Reveil", failed: "Echec" };
const settings = { defaultService: "shell", wolService: "localdisk", timeoutSeconds: 7, hidden: false };

describe("iPXE scripts", () => {
  test("texts from the database or clients cannot inject iPXE syntax", () => {
    expect(ipxeText("PC ${net0/mac} #x \"q\" a\nb")).toBe("PC net0/mac x q a b");
    expect(ipxeName("custom-7; shell")).toBe("custom-7__shell");
    expect(ipxeText("Élève › Salle 2 ✓")).toBe("Eleve > Salle 2 ?");
  });

  test("a machine's menu: items in order, default entry and timeout, a block per service", () => {
    const s = machineMenu({ base: "http://10.0.0.1:8080", title: "Medulla - PC ${bad}\nx", services, settings, woke: false, texts });
    const lines = s.split("\n");
    expect(lines.slice(0, 8)).toEqual([
      "#!ipxe", "set medulla http://10.0.0.1:8080", ":start", "menu Medulla - PC bad x",
      "item svc-localdisk Disque local", "item svc-shell Shell", "item svc-custom-7 Evil x c menu pwned",
      "choose --default svc-shell --timeout 7000 target && goto ${target} || goto svc-shell",
    ]);
    expect(s).toContain(":svc-custom-7\necho hi\necho Echec");
    expect(s).not.toContain("#!ipxe\necho hi");
  });

  test("after a wake-up by the appliance the WOL default applies and says so", () => {
    const s = machineMenu({ base: "http://h", title: "M", services, settings, woke: true, texts });
    expect(s).toContain("item --gap -- Reveil");
    expect(s).toContain("choose --default svc-localdisk");
  });

  test("hidden menu or timeout 0: straight to the default entry; a default that is gone falls back to the first", () => {
    expect(machineMenu({ base: "http://h", title: "M", services, settings: { ...settings, timeoutSeconds: 0 }, woke: false, texts })).toContain("goto svc-shell");
    const s = machineMenu({ base: "http://h", title: "M", services, settings: { ...settings, hidden: true, defaultService: "gone" }, woke: false, texts });
    expect(s).not.toContain("menu M");
    expect(s).toContain("goto svc-localdisk");
    expect(machineMenu({ base: "http://h", title: "M", services: [], settings, woke: false, texts })).toContain("exit 0");
  });

  test("registration: name asked until given, entity menu when several, group menu when any, values URL-encoded", () => {
    const s = registrationMenu({
      base: "http://h", title: "Inconnue", mac: "52:54:00:01:02:03", uuid: "u u", arch: "x86_64", platform: "efi",
      entities: [{ id: 1, label: "Root" }, { id: 4, label: "Root › Ecole ${x}" }], groups: [{ id: 9, label: "Salle 1" }], services, texts: { register: "Enregistrer", name: "Nom", entity: "Entite", group: "Groupe", noGroup: "Aucun", failed: "Echec" },
    });
    expect(s).toContain("echo -n Nom: && read mname || goto start\nisset ${mname} || goto ask-name");
    expect(s).toContain("item 4 Root > Ecole x");
    expect(s).toContain("choose --default 1 mentity || goto start");
    expect(s).toContain("item 9 Salle 1");
    expect(s).toContain("/boot/register?mac=52%3A54%3A00%3A01%3A02%3A03&uuid=u%20u&arch=x86_64&platform=efi&name=${mname:uristring}&entity=${mentity}&group=${mgroup}");
    const single = registrationMenu({ base: "http://h", title: "I", mac: "m", uuid: "", arch: "", platform: "", entities: [{ id: 1, label: "Root" }], groups: [], services: [], texts: { register: "R", name: "N", entity: "E", group: "G", noGroup: "-", failed: "F" } });
    expect(single).toContain("set mentity 1");
    expect(single).toContain("set mgroup 0");
  });

  test("the start script asks for the menu with the client's identity and falls back to the disk", () => {
    const s = startScript("http://10.0.0.1:8080");
    expect(s).toContain("chain --autofree http://10.0.0.1:8080/boot/menu.ipxe?mac=${netX/mac:hexhyp}&uuid=${uuid}&arch=${buildarch}&platform=${platform}&ip=${netX/ip} ||");
    expect(s.trim().endsWith("exit 0")).toBe(true);
  });
});
