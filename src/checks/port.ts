import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { endianness } from "node:os";
import type { CheckTypeDef } from "./check_type.js";
import { fsReason, type BatchContext, type Evaluation } from "./evaluation.js";
import type { Params } from "./fields.js";

/*
 * `port`: a local socket is listening on `port` ("tcp:22", "udp:53",
 * "tcp6:443"), read from /proc/net/{tcp,tcp6,udp,udp6} (no ss or netstat
 * needed). "tcp"/"udp" look at both address families, because a daemon bound
 * to [::] (dual-stack) serves IPv4 too and appears only in the *6 table;
 * "tcp4"/"udp4" and "tcp6"/"udp6" look at one family. Listening means state
 * 0A (LISTEN) for TCP; for UDP, a bound socket not connected to a peer
 * (state 07), since a connected UDP socket is a client's.
 *
 * With `ip`, the socket must be bound to that address or to the wildcard of
 * its table (0.0.0.0, ::), which accepts on every address; an IPv4-mapped
 * address in the *6 table (::ffff:a.b.c.d) counts as that IPv4 address.
 * `listening: false` turns the check round: nothing may listen there.
 *
 * /proc/net shows the sockets of this process's network namespace: a daemon
 * in a container sees the container's.
 */

const PORT_SPEC = /^(tcp|udp)(4|6)?:([1-9]\d{0,4})$/;

export const portCheck: CheckTypeDef = {
  type: "port",
  subject: "port",
  fields: {
    port: { type: { kind: "string" }, required: true, doc: 'the protocol and port, "tcp:22", "udp:53", "tcp6:443" (tcp/udp: either address family; tcp4, tcp6, udp4, udp6: one)' },
    ip: { type: { kind: "string" }, doc: "the local address the socket must be bound to (or the wildcard address, which covers it)" },
    listening: { type: { kind: "boolean" }, doc: "true (default): something listens; false: nothing may" },
  },
  rules(p, field) {
    const errors: string[] = [];
    const m = PORT_SPEC.exec(p.port as string);
    const n = m ? Number(m[3]) : 0; // no leading zeros: the schema states the same range as a pattern
    if (!m || n < 1 || n > 65535)
      errors.push(`${field("port")}: expected PROTOCOL:PORT such as "tcp:22", "udp:53" or "tcp6:443" (protocol tcp, tcp4, tcp6, udp, udp4 or udp6; port 1 to 65535), got ${JSON.stringify(p.port)}`);
    const ip = p.ip as string | undefined;
    if (ip !== undefined && isIP(ip) === 0) errors.push(`${field("ip")}: expected an IPv4 or IPv6 address such as "127.0.0.1" or "::1", got ${JSON.stringify(ip)}`);
    else if (ip !== undefined && m?.[2] === "4" && isIP(ip) === 6) errors.push(`${field("ip")}: ${JSON.stringify(ip)} is an IPv6 address but "port" says ${m[1]}4 (IPv4 only)`);
    return errors;
  },
  evaluate: (p, ctx) => evaluatePort(p, "/proc/net", ctx.memo),
};

export interface Socket {
  table: string;
  /** Canonical text of the local address ("127.0.0.1", "::"). */
  address: string;
  port: number;
  /** The kernel's state code, hex as in the file ("0A"). */
  state: string;
}

async function evaluatePort(p: Params, procNet = "/proc/net", memo: BatchContext["memo"] = (_k, load) => load()): Promise<Evaluation> {
  const spec = p.port as string;
  const [, proto, family, portText] = PORT_SPEC.exec(spec)!;
  const port = Number(portText);
  const ip = p.ip as string | undefined;
  const wanted = (p.listening as boolean | undefined) ?? true;
  const tables = family === "4" ? [proto!] : family === "6" ? [`${proto}6`] : [proto!, `${proto}6`];
  const listeningState = proto === "tcp" ? "0A" : "07";
  const onPort: Socket[] = [];
  for (const table of tables) {
    let byPort: Map<number, Socket[]>;
    try {
      // Once per table per batch, indexed by port: a busy host's table has thousands of lines (TIME_WAIT included).
      byPort = await memo(`port:${procNet}/${table}`, async () => indexByPort(parseProcNet(await readFile(`${procNet}/${table}`, "utf8"), table, listeningState)));
    } catch (e) {
      // A kernel without IPv6 has no tcp6 table: nothing can listen there.
      if ((e as NodeJS.ErrnoException).code === "ENOENT" && table.endsWith("6") && tables.length > 1) continue;
      return { status: "error", message: `port ${spec}: cannot read ${procNet}/${table}: ${fsReason(e)}` };
    }
    onPort.push(...(byPort.get(port) ?? []));
  }
  const found = ip === undefined ? onPort : onPort.filter((s) => coversAddress(s, ip));
  const where = ip === undefined ? `port ${spec}` : `port ${spec} on ${ip}`;
  const seen = (ss: Socket[]) => [...new Set(ss.map((s) => `${s.table} ${s.address.includes(":") ? `[${s.address}]` : s.address}:${s.port}`))].join(", ");
  if (found.length > 0) {
    const msg = `${where}: ${proto === "tcp" ? "listening" : "bound"} (${seen(found)})`;
    return wanted ? { status: "pass", message: msg } : { status: "fail", message: `${msg}, expected nothing listening` };
  }
  const elsewhere = onPort.length > 0 ? ` (bound on other addresses: ${seen(onPort)})` : "";
  const msg = `${where}: nothing ${proto === "tcp" ? "listening" : "bound"} in ${tables.map((t) => `${procNet}/${t}`).join(", ")}${elsewhere}`;
  return wanted ? { status: "fail", message: msg } : { status: "pass", message: msg };
}

/**
 * The sockets of one /proc/net table (tcp, tcp6, udp, udp6); with `state`
 * (hex, "0A"), only those in that state, whose addresses alone are decoded:
 * the thousands of TIME_WAIT lines of a busy host are skipped after a glance.
 */
export function parseProcNet(text: string, table: string, state?: string): Socket[] {
  const out: Socket[] = [];
  const lines = text.split("\n");
  for (let i = 1; i < lines.length; i++) {
    const cols = lines[i]!.trim().split(/\s+/, 4);
    if (cols.length < 4) continue;
    const st = cols[3]!.toUpperCase();
    if (state !== undefined && st !== state) continue;
    const [addrHex, portHex] = cols[1]!.split(":");
    if (addrHex === undefined || portHex === undefined) continue;
    out.push({ table, address: decodeAddress(addrHex), port: parseInt(portHex, 16), state: st });
  }
  return out;
}

function indexByPort(sockets: Socket[]): Map<number, Socket[]> {
  const index = new Map<number, Socket[]>();
  for (const s of sockets) {
    const list = index.get(s.port);
    if (list) list.push(s);
    else index.set(s.port, [s]);
  }
  return index;
}

/**
 * The kernel prints an address as 32-bit words in host byte order, each as
 * hex: on a little-endian host 127.0.0.1 is "0100007F". Each word's bytes are
 * put back in network order.
 */
const LITTLE_ENDIAN = endianness() === "LE";

function decodeAddress(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = [0, 2, 4, 6].map((i) => parseInt(hex.slice(w + i, w + i + 2), 16));
    bytes.push(...(LITTLE_ENDIAN ? word.reverse() : word));
  }
  if (bytes.length === 4) return bytes.join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return canonicalIPv6(groups.join(":"));
}

/** Whether a socket bound to its address accepts on `ip`. */
function coversAddress(s: Socket, ip: string): boolean {
  const v6 = s.table.endsWith("6");
  if (!v6) return s.address === "0.0.0.0" || s.address === ip;
  if (s.address === "::") return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(s.address);
  if (mapped) return mapped[1] === ip;
  return isIP(ip) === 6 && s.address === canonicalIPv6(ip);
}

/** RFC 5952 text of an IPv6 address (lower case, longest zero run as "::"), via the URL parser; IPv4-mapped kept dotted. */
function canonicalIPv6(ip: string): string {
  const host = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (!mapped) return host;
  const a = parseInt(mapped[1]!, 16);
  const b = parseInt(mapped[2]!, 16);
  return `::ffff:${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
}
