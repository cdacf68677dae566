/**
 * The TFTP server alone in its own process, for scripts/bench/tftp.ts (which runs it in a
 * network namespace beside dnsmasq): `bun serve.ts <root> <address> <port>`; prints "ready".
 */
import { startTftp } from "../../../src/net/tftp/server.ts";

const [root = ".", address = "127.0.0.1", port = "69"] = process.argv.slice(2);
const server = await startTftp({ root, bind: address, port: Number(port), maxTransfers: 1000 });
console.log(`ready ${server.port}`);
process.on("SIGTERM", () => void server.stop().then(() => process.exit(0)));
