import { defaultGossipConfig, localGossipConfig, type GossipConfig } from "../gossip/config.js";
import type { TrustedKeys } from "../gossip/signing.js";
import { systemClock } from "../base/clock.js";
import type { Keyring } from "../net/keyring.js";
import { ListenError } from "../net/listen.js";
import type { Logger } from "../base/logger.js";
import { DEFAULT_PACKET_PAYLOAD_BYTES, NodeTransport } from "../net/node_transport.js";
import { systemRandom } from "../base/random.js";
import { profile } from "../swim/config.js";
import { Swim } from "../swim/swim.js";
import { formatHostPort } from "../cmdline/address.js";
import { buildNodeStack } from "../stack/node_stack.js";
import { admitEnvelope } from "./cluster/admission.js";
import { ClusterBackend } from "./cluster/backend.js";
import { RefusalAudit } from "./cluster/refusal_audit.js";
import { Watch } from "./cluster/watch.js";
import { type DaemonOptions, memberTags } from "./flags.js";
import type { LazyMetrics } from "./api/lazy_metrics.js";
import { errorMessage } from "../base/result.js";

/*
 * Builds one cluster node from the daemon's options: the transport (UDP +
 * TCP on -bind, sealed with the keyring), the membership on it, and
 * dissemination on both, wired as DESIGN.md says: swim's push-pull carries
 * gossip's live envelope IDs (its delegate forwards to the Disseminator
 * built after it), and gossip reads swim's member list. Then it starts
 * them. Failures a person must fix (port in use, unwritable data dir) come
 * back as one line; anything else is a bug and throws.
 */

export interface NodeDeps {
  keyring: Keyring | null;
  saveKeyring: (k: Keyring) => void;
  trustedKeys?: TrustedKeys;
  version: string;
  log: Logger & { child(bindings: object): Logger };
  /** Where the node defines its metric families (the ones GET /metrics serves). */
  metrics?: LazyMetrics;
}

export type StartedNode = { ok: true; backend: ClusterBackend; transport: NodeTransport } | { ok: false; error: string };

/**
 * Gossip timings follow the membership profile: `local` (tests, one host)
 * gets the fast anti-entropy and result retries, `lan` the defaults.
 * The largest envelope leaves 1/16 of the frame (at least 4 KiB) for the
 * frame header, gossip message and sealing: 15 MiB of the default 16 MiB.
 */
export function gossipConfigFor(o: Pick<DaemonOptions, "profile" | "gossipGroup" | "maxFrameSize">): GossipConfig {
  const base = o.profile === "local" ? localGossipConfig() : defaultGossipConfig();
  const headroom = Math.max(4096, Math.floor(o.maxFrameSize / 16));
  return { ...base, gossipGroup: o.gossipGroup, maxEnvelopeBytes: Math.min(base.maxEnvelopeBytes, o.maxFrameSize - headroom) };
}

export async function startNode(o: DaemonOptions, deps: NodeDeps): Promise<StartedNode> {
  const log = deps.log;
  let transport: NodeTransport;
  try {
    transport = await NodeTransport.listen({
      bindHost: o.bind.host,
      port: o.bind.port,
      advertiseHost: o.advertise.host,
      // An -advertise port other than -bind's is a port mapping; without
      // -advertise the two are the same and the bound port (0 resolved) is used.
      ...(o.advertise.port !== o.bind.port && { advertisePort: o.advertise.port }),
      keyring: deps.keyring,
      label: o.label,
      maxFrameBytes: o.maxFrameSize,
      logger: log.child({ layer: "net" }),
    });
  } catch (err) {
    if (err instanceof ListenError) return { ok: false, error: `-bind ${formatHostPort(o.bind)}: ${err.message}` };
    throw err;
  }

  const config = { ...profile(o.profile), packetSizeBytes: DEFAULT_PACKET_PAYLOAD_BYTES };
  const tags = memberTags(o);
  const node = { name: o.name, tags, actionsEnabled: o.actionsEnabled, ...(deps.trustedKeys && { trustedKeys: deps.trustedKeys }) };
  const admit = admitEnvelope(node);
  // Built after the stack (it needs gossip and the member list); the stack's push-pull asks it for the standing schedules.
  let watch: Watch | null = null;
  const refusals = new RefusalAudit(systemClock, (kind, summary, subject) => watch?.audit(kind, summary, subject));
  const { swim, gossip } = buildNodeStack(
    (delegate) => new Swim({ name: o.name, transport, clock: systemClock, random: systemRandom, config, tags, delegate, logger: log.child({ layer: "swim" }) }),
    () => ({
      transport,
      clock: systemClock,
      random: systemRandom,
      config: gossipConfigFor(o),
      dataDir: o.dataDir,
      admit: (env) => refusals.note(env, admit(env)),
      standing: { envelopes: () => watch?.book.envelopes() ?? [], known: (env) => watch?.book.has(env) ?? false, accept: (env, from) => watch?.standing().accept(env, from) },
      logger: log.child({ layer: "gossip" }),
    }),
  );
  watch = new Watch({
    node,
    gossip,
    members: () => swim.members(),
    clock: systemClock,
    random: systemRandom,
    log: log.child({ layer: "watch" }),
    dataDir: o.dataDir,
    ...(o.checksDir !== undefined && { checksDir: o.checksDir }),
    triggers: o.triggers,
    historyRetentionMs: o.historyRetentionMs,
    historyMaxBytes: o.historyMaxBytes,
    flapMaxActions: o.flapMaxActions,
    flapWindowMs: o.flapWindowMs,
    refusal: (env) => {
      const a = admit(env);
      return a.ok ? null : a.reason;
    },
  });
  const backend = new ClusterBackend({
    transport,
    swim,
    gossip,
    node,
    version: deps.version,
    keyring: deps.keyring,
    saveKeyring: deps.saveKeyring,
    log,
    awarenessMaxMultiplier: config.awarenessMaxMultiplier,
    watch,
    coordinator: { count: o.coordinators, quorum: o.coordinatorQuorum },
    ...(deps.metrics && { metrics: deps.metrics }),
  });
  try {
    await backend.start();
  } catch (err) {
    await transport.close();
    // The message names the data dir and says what to do.
    return { ok: false, error: errorMessage(err) };
  }
  return { ok: true, backend, transport };
}
