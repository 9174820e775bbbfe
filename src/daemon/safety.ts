import { formatHostPort, isLoopbackHost } from "../cmdline/address.js";
import type { DaemonOptions } from "./flags.js";

/**
 * Safe defaults (DESIGN.md, Security): a daemon runs shell commands that
 * arrive over the network, so listening beyond loopback needs credentials.
 * Returns the refusal (one line, saying what to do), or the warnings to log
 * when the operator explicitly chose -insecure.
 */
export interface SafetyVerdict {
  refusal?: string;
  warnings: string[];
}

/**
 * hasClusterKey: a key is configured (-key-file, -keyring-file, or a keyring
 * persisted in the data dir; the keyring module knows the last one).
 */
export function checkStartupSafety(o: DaemonOptions, hasClusterKey: boolean): SafetyVerdict {
  const warnings: string[] = [];
  if (!isLoopbackHost(o.bind.host) && !hasClusterKey) {
    if (!o.insecure) {
      return {
        refusal:
          `-bind ${formatHostPort(o.bind)} is reachable from other machines and no cluster key is set: anyone who can reach it could run commands here. ` +
          `Create a key with "gcheck keygen > /etc/gossipcheck/cluster.key" (chmod 600, same key on every node) and pass -key-file, ` +
          `or pass -insecure to run unauthenticated on purpose`,
        warnings,
      };
    }
    warnings.push(`running -insecure: cluster traffic on ${formatHostPort(o.bind)} is neither encrypted nor authenticated, and anyone who can reach it can run commands on this node`);
  }
  // -discover joins whoever announces itself with our key and label: without a key, anyone on the segment could
  // pull this node into a cluster of theirs and send it commands. -insecure does not lift this.
  if (o.discover && !hasClusterKey && !isLoopbackHost(o.discover.interfaceAddress ?? "0.0.0.0")) {
    const on = o.discover.interfaceAddress ?? `every interface (-bind ${formatHostPort(o.bind)})`;
    return {
      refusal:
        `-discover on ${on} would join any host on the network segment that announces itself, and no cluster key is set (-insecure does not cover discovery). ` +
        `Create a key with "gcheck keygen > /etc/gossipcheck/cluster.key" (chmod 600, same key on every node) and pass -key-file, or use -peers instead`,
      warnings,
    };
  }
  if (o.cliBind && !isLoopbackHost(o.cliBind.host) && o.cliTokenFile === undefined) {
    return {
      refusal:
        `-cli-bind ${formatHostPort(o.cliBind)} is not a loopback address, so the control API needs a token: ` +
        `create one with "gcheck keygen > /etc/gossipcheck/cli.token" (chmod 600) and pass -cli-token-file, or keep -cli-bind on 127.0.0.1`,
      warnings,
    };
  }
  // NodNod clients get the same rule as the control API, with its token (src/daemon/nodnod/server.ts).
  if (o.nodnodBind && !isLoopbackHost(o.nodnodBind.host) && o.cliTokenFile === undefined) {
    return {
      refusal:
        `-nodnod-bind ${formatHostPort(o.nodnodBind)} is not a loopback address, so NodNod clients need the control API's token: ` +
        `create one with "gcheck keygen > /etc/gossipcheck/cli.token" (chmod 600) and pass -cli-token-file, or keep -nodnod-bind on 127.0.0.1`,
      warnings,
    };
  }
  return { warnings };
}
