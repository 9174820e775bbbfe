import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type HostPort, formatHostPort } from "../../cmdline/address.js";

/*
 * Listening with an HTTP server of the daemon (the control API, the metrics
 * server): resolves with the address actually bound (port 0 resolved), or
 * with a one-line reason a person can act on.
 */

export type Listened = { ok: true; address: string } | { ok: false; code: string; error: string };

/** inUseHint: what to do when the port is taken, e.g. "or -no-cli". */
export function listenHttp(server: Server, bind: HostPort, inUseHint: string): Promise<Listened> {
  return new Promise<Listened>((resolve) => {
    const onError = (e: NodeJS.ErrnoException) => resolve({ ok: false, code: e.code ?? "ERROR", error: listenErrorMessage(e, inUseHint) });
    server.once("error", onError);
    server.listen({ host: bind.host, port: bind.port }, () => {
      server.off("error", onError);
      const a = server.address() as AddressInfo;
      resolve({ ok: true, address: formatHostPort({ host: a.address, port: a.port }) });
    });
  });
}

function listenErrorMessage(e: NodeJS.ErrnoException, inUseHint: string): string {
  switch (e.code) {
    case "EADDRINUSE":
      return `the port is already in use (is another gossipcheckd running?): choose another port, ${inUseHint}`;
    case "EADDRNOTAVAIL":
      return "this host has no such address: use one of its own addresses, e.g. 127.0.0.1";
    case "EACCES":
      return "permission denied (ports below 1024 need root): choose a port above 1023";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "the host name does not resolve: use an IP address or a name in /etc/hosts";
    default:
      return `cannot listen: ${e.message}`;
  }
}
