/**
 * @module net/dhcp/proxy
 * The proxyDHCP (PXE 2.1 §2.2.1, DESIGN.md "Imaging and network boot"): it runs beside the
 * site's DHCP server and answers PXE clients only (option 60 "PXEClient"), never with an
 * address (yiaddr stays 0.0.0.0): on UDP 67 an OFFER carrying the boot file for the client's
 * architecture (option 93) or, for a client that already is iPXE (77 "iPXE" / 175), the HTTP
 * menu URL; on UDP 4011 an ACK to the REQUEST that some UEFI firmwares send there.
 * `answer` is pure (table-tested); `startProxyDhcp` binds the sockets. Every packet that is
 * malformed, not PXE or not for us is dropped and reported through `onEvent`, never thrown.
 */
import { createSocket, type Socket } from "node:dgram";
import { Arch, archFamily, BOOTREPLY, BOOTREQUEST, bytes, decode, DhcpError, encode, encodeVendor, ipv4, MessageType, Opt, pxeView, type ArchFamily, type DhcpPacket, type PxeRequest } from "./codec.ts";

export interface ProxyPolicy {
  /** The address told to clients as the DHCP server identifier (option 54). */
  serverIp: string;
  /** Where clients fetch the boot file over TFTP (siaddr). */
  nextServer: string;
  /** The TFTP boot file for an architecture, or null when none is available for it. */
  bootFile(family: ArchFamily, arch: number | null): string | null;
  /** The script an iPXE client chains to (HTTP URL). */
  ipxeUrl(req: PxeRequest): string;
}

export type Answer =
  | { kind: "reply"; packet: DhcpPacket; request: PxeRequest; file: string }
  | { kind: "ignored"; reason: "not-request" | "not-pxe" | "message-type" | "other-server" | "no-boot-file" | "hardware"; request?: PxeRequest };

/** What the proxy answers to `req` received on `port` ("dhcp" = 67, "pxe" = 4011). */
export function answer(req: DhcpPacket, port: "dhcp" | "pxe", policy: ProxyPolicy): Answer {
  if (req.op !== BOOTREQUEST) return { kind: "ignored", reason: "not-request" };
  const view = pxeView(req);
  if (!view.isPxe) return { kind: "ignored", reason: "not-pxe", request: view };
  if (req.htype !== 1 || req.hlen !== 6) return { kind: "ignored", reason: "hardware", request: view };
  const mt = view.messageType;
  let replyType: number;
  if (port === "dhcp") {
    if (mt === MessageType.DISCOVER) replyType = MessageType.OFFER;
    else if (mt === MessageType.REQUEST) {
      // A REQUEST on 67 is for the server the client chose: answer only if that is us.
      const sid = req.options.get(Opt.SERVER_ID);
      if (!sid || sid.length !== 4 || sid.join(".") !== policy.serverIp) return { kind: "ignored", reason: "other-server", request: view };
      replyType = MessageType.ACK;
    } else return { kind: "ignored", reason: "message-type", request: view };
  } else {
    if (mt !== MessageType.REQUEST && mt !== MessageType.INFORM) return { kind: "ignored", reason: "message-type", request: view };
    replyType = MessageType.ACK;
  }
  const family = archFamily(view.arch);
  const file = view.isIpxe ? policy.ipxeUrl(view) : policy.bootFile(family, view.arch);
  if (!file) return { kind: "ignored", reason: "no-boot-file", request: view };
  const options = new Map<number, Uint8Array>();
  options.set(Opt.MESSAGE_TYPE, Uint8Array.of(replyType));
  options.set(Opt.SERVER_ID, ipv4(policy.serverIp));
  options.set(Opt.CLASS_ID, bytes("PXEClient"));
  if (view.uuidRaw) options.set(Opt.UUID, view.uuidRaw);
  if (!view.isIpxe) {
    // PXE discovery control: bit 3, use the boot file of this offer (no boot server discovery, no menu).
    options.set(Opt.VENDOR, encodeVendor(new Map([[6, Uint8Array.of(8)]])));
  }
  // Option 67 too: some firmwares read the file from there rather than from the header.
  if (bytes(file).length <= 127) options.set(67, bytes(file));
  const packet: DhcpPacket = {
    op: BOOTREPLY, htype: 1, hlen: 6, hops: 0, xid: req.xid, secs: 0, flags: req.flags,
    ciaddr: port === "pxe" ? req.ciaddr : "0.0.0.0", yiaddr: "0.0.0.0", siaddr: policy.nextServer, giaddr: req.giaddr,
    chaddr: req.chaddr, sname: "", file: bytes(file).length <= 127 ? file : "", options,
  };
  return { kind: "reply", packet, request: view, file };
}

export interface ProxyEvent {
  port: "dhcp" | "pxe";
  from: string;
  outcome: "answered" | "ignored" | "malformed" | "send-failed";
  reason?: string;
  request?: PxeRequest;
  file?: string;
}

export interface ProxyOptions {
  bind?: string;
  /** 67 and 4011 by default; tests pass unprivileged ones. */
  dhcpPort?: number;
  pxePort?: number;
  policy: () => ProxyPolicy;
  onEvent?: (e: ProxyEvent) => void;
  /** Where an answer to port 67 goes: by default 255.255.255.255:68, or the relay (giaddr) on 67. */
  replyTarget?: (req: DhcpPacket, from: { address: string; port: number }) => { address: string; port: number };
}

export interface ProxyDhcp {
  ports: { dhcp: number; pxe: number };
  stop(): Promise<void>;
}

function bindUdp(port: number, address: string, onMessage: (msg: Buffer, rinfo: { address: string; port: number }, sock: Socket) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type: "udp4", reuseAddr: false });
    sock.once("error", reject);
    sock.on("message", (msg, rinfo) => onMessage(msg, rinfo, sock));
    sock.bind(port, address, () => {
      sock.off("error", reject);
      sock.on("error", () => {});
      try {
        sock.setBroadcast(true);
      } catch {
        // not fatal: replies to relays and 4011 are unicast
      }
      resolve(sock);
    });
  });
}

export async function startProxyDhcp(opts: ProxyOptions): Promise<ProxyDhcp> {
  const bind = opts.bind ?? "0.0.0.0";
  const emit = (e: ProxyEvent) => {
    try {
      opts.onEvent?.(e);
    } catch {
      // a logging problem never stops the service
    }
  };
  const handle = (port: "dhcp" | "pxe") => (msg: Buffer, rinfo: { address: string; port: number }, sock: Socket) => {
    let req: DhcpPacket;
    try {
      req = decode(msg);
    } catch (err) {
      emit({ port, from: rinfo.address, outcome: "malformed", reason: err instanceof DhcpError ? err.message : String(err) });
      return;
    }
    let a: Answer;
    try {
      a = answer(req, port, opts.policy());
    } catch (err) {
      emit({ port, from: rinfo.address, outcome: "malformed", reason: (err as Error).message });
      return;
    }
    if (a.kind === "ignored") {
      emit({ port, from: rinfo.address, outcome: "ignored", reason: a.reason, request: a.request });
      return;
    }
    let target: { address: string; port: number };
    if (port === "pxe") target = rinfo;
    else if (opts.replyTarget) target = opts.replyTarget(req, rinfo);
    else if (req.giaddr !== "0.0.0.0") target = { address: req.giaddr, port: 67 };
    else target = { address: "255.255.255.255", port: 68 };
    let out: Uint8Array;
    try {
      out = encode(a.packet);
    } catch (err) {
      emit({ port, from: rinfo.address, outcome: "send-failed", reason: (err as Error).message, request: a.request });
      return;
    }
    sock.send(out, target.port, target.address, (err) => {
      if (err) emit({ port, from: rinfo.address, outcome: "send-failed", reason: err.message, request: a.request, file: a.file });
    });
    emit({ port, from: rinfo.address, outcome: "answered", request: a.request, file: a.file });
  };
  const dhcp = await bindUdp(opts.dhcpPort ?? 67, bind, handle("dhcp"));
  let pxe: Socket;
  try {
    pxe = await bindUdp(opts.pxePort ?? 4011, bind, handle("pxe"));
  } catch (err) {
    dhcp.close();
    throw err;
  }
  return {
    ports: { dhcp: dhcp.address().port, pxe: pxe.address().port },
    stop: () => Promise.all([dhcp, pxe].map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => {}),
  };
}

export { Arch };
