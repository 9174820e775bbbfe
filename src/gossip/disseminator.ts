import { pb } from "../proto/index.js";
import type { Clock } from "../base/clock.js";
import { nullLogger, RateLimitedLog, type Logger } from "../base/logger.js";
import { sample, type Random } from "../base/random.js";
import { Channel, TransportError, type Address, type Relay, type Transport } from "../net/transport.js";
import type { MemberEvent, Membership, PushPullDelegate } from "../swim/types.js";
import { AckRounds } from "./acks.js";
import { AntiEntropy } from "./anti_entropy.js";
import { decodeGossip, decodeLiveIds, encodeGossip, encodeLiveIds, envelopeBytes } from "./codec.js";
import type { GossipConfig } from "./config.js";
import { newGossipCounters, type GossipCounters } from "./counters.js";
import { createEnvelope, ENVELOPE_ID_BYTES, envelopeProblem, expiresAtMs, idToHex, isExpired, type Envelope } from "./envelope.js";
import { SeenHistory } from "./history.js";
import { RefusedCopies } from "./refused.js";
import { OriginRepair } from "./repair.js";
import { ReplySender } from "./reply_sender.js";
import { GossipRequester } from "./requester.js";
import { Publication } from "./publication.js";
import { openSeenState, type SeenState } from "./seen_file.js";
import { errorMessage } from "../base/result.js";

export interface DisseminatorOptions {
  membership: Membership;
  transport: Transport;
  clock: Clock;
  random: Random;
  config: GossipConfig;
  logger?: Logger;
  /** Where the seen-history state file lives; null or absent: in memory only (a restart forgets). */
  dataDir?: string | null;
  /**
   * Judges an envelope before it counts as seen (see Admission); absent:
   * every well-formed envelope is admitted.
   */
  admit?: (env: Envelope) => Admission;
  /** Envelopes handed over in every push-pull whatever their TTL (schedules); absent: none. */
  standing?: StandingEnvelopes;
}

/**
 * The consumer's side of standing envelopes: what this node hands over in
 * its push-pull state, and what it does with those a peer handed over (each
 * well-formed and admitted, like any envelope, expiry aside). The consumer
 * keeps them bounded (count and bytes) and decides which version wins.
 */
export interface StandingEnvelopes {
  envelopes(): Envelope[];
  /** Whether the consumer keeps this very envelope already: it is then skipped before its signature is checked again (each push-pull repeats them all). */
  known(env: Envelope): boolean;
  accept(env: Envelope, from: Address): void;
}

/** Standing envelopes read from one push-pull state; the rest are ignored (a consumer keeps far fewer). */
const MAX_STANDING_PER_STATE = 1024;

/**
 * What the layer above says of a newly arrived envelope before it is
 * recorded as seen. A refused one is not recorded (so a forged copy cannot
 * consume a genuine envelope's ID), not passed on, and not consumed; when
 * `answer` is set (this node is one the envelope is for) the origin is told
 * `reason`, once per copy (src/gossip/refused.ts).
 */
export type Admission = { ok: true } | { ok: false; reason: string; answer: boolean };

const ADMITTED: Admission = { ok: true };
/** Refused copies remembered (src/gossip/refused.ts): about 100 bytes each. */
const MAX_REFUSED_COPIES = 4096;

/** What a consumer answers to the origin (the body of a NodeReply). */
export type ReplyBody =
  | { checks: pb.CheckReport.$Properties }
  | { keys: pb.KeyReport.$Properties }
  | { stats: pb.StatsReport.$Properties }
  | { history: pb.HistoryAnswer.$Properties }
  | { event: pb.EventReport.$Properties }
  | { query: pb.QueryReport.$Properties }
  | { rejected: string };

/** Consumes one envelope; resolves with the reply for the origin, or null for none. */
export type EnvelopeHandler = (env: Envelope) => Promise<ReplyBody | null>;

export interface PublishOptions {
  /** Live this long (ms); default config.defaultTtlMs. */
  ttlMs?: number;
  /** Node names whose replies are awaited; absent: open-ended (done only at expiry or cancel). */
  expected?: string[];
  /**
   * A node the burst pushes to first, whatever else it picks (a message for
   * that node: it need not wait for relays). When the kind's relay policy
   * (onRelay) keeps the envelope from spreading, it goes to this node only.
   */
  pushFirst?: string;
}

export type PublishResult = { ok: true; publication: Publication } | { ok: false; error: string };

const OK = encodeGossip({ kind: "ok" });

/**
 * Dissemination of envelopes over the transport's Gossip channel: the burst
 * (eager push on first receipt), anti-entropy (advertise + pull, and the
 * push-pull delegate for joiners), the origin's directed repair of expected
 * nodes the burst missed, exactly-once consumption guarded by the
 * seen-history, and the results path (replies straight to the origin, and a
 * Publication per envelope published here).
 */
export class Disseminator implements PushPullDelegate {
  private readonly m: Membership;
  private readonly clock: Clock;
  private readonly config: GossipConfig;
  private readonly logger: Logger;
  private readonly rateLog: RateLimitedLog;
  private readonly stats = newGossipCounters();
  private readonly history: SeenHistory;
  private readonly requester: GossipRequester;
  private readonly antiEntropy: AntiEntropy;
  private readonly replies: ReplySender;
  private readonly repair: OriginRepair;
  private readonly acks: AckRounds;
  private readonly handlers = new Map<pb.EnvelopeKind, EnvelopeHandler>();
  private readonly relays = new Map<pb.EnvelopeKind, (env: Envelope) => boolean>();
  /** Kinds whose consumer may see an envelope again after a restart (a channel message: its new subscribers never saw it). */
  private readonly replaySafe = new Set<pb.EnvelopeKind>();
  private readonly publications = new Map<string, Publication>();
  /** spreading()'s last answer and the live() array it was made from. */
  private spreadingOf: { live: readonly Envelope[]; spreading: readonly Envelope[] } | undefined;
  private readonly refused = new RefusedCopies(MAX_REFUSED_COPIES);
  /** The state file, when there is a data dir. */
  private seen: SeenState | null = null;
  private unsubscribe: () => void = () => undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly o: DisseminatorOptions) {
    this.m = o.membership;
    this.clock = o.clock;
    this.config = o.config;
    this.logger = o.logger ?? nullLogger;
    this.rateLog = new RateLimitedLog(this.logger, () => o.clock.now());
    this.history = new SeenHistory(o.config.maxClockSkewMs);
    this.requester = new GossipRequester(o.transport, o.config.requestTimeoutMs, this.stats);
    const common = { requester: this.requester, membership: o.membership, clock: o.clock, random: o.random, config: o.config, counters: this.stats, logger: this.logger };
    this.antiEntropy = new AntiEntropy({
      ...common,
      live: () => this.spreading(),
      liveEnvelope: (id) => this.history.liveEnvelope(id, this.clock.now()),
      lacks: (id) => !this.history.has(id),
      accept: (env, from) => void this.accept(env, from),
    });
    this.replies = new ReplySender(common);
    this.repair = new OriginRepair(common);
    this.acks = new AckRounds(o.clock, o.config.replyAckDelayMs);
  }

  /**
   * Loads the seen-history from the data dir, then starts serving the Gossip
   * channel and advertising. Rejects with a message naming the data dir when
   * it cannot be created or written.
   */
  async start(): Promise<void> {
    if (this.o.dataDir) this.seen = await openSeenState(this.o.dataDir, this.history, this.clock, this.config, this.logger);
    this.o.transport.onRequest(Channel.Gossip, (body, from, relay) => this.handleRequest(body, from, relay));
    // Burst pushes carry their envelope's ID as dedup key: a push of an
    // envelope already here is dropped before it is opened or decoded.
    this.o.transport.onKnown(Channel.Gossip, (id) => {
      if (id.length !== ENVELOPE_ID_BYTES || !this.history.has(idToHex(id))) return false;
      this.stats.duplicates++;
      return true;
    });
    this.unsubscribe = this.m.onEvent((e) => this.onMemberEvent(e));
    this.antiEntropy.start();
    this.started = true;
  }

  /** Stops timers and retries, cancels open publications, writes the state file. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.acks.release();
    this.antiEntropy.stop();
    this.replies.stop();
    this.repair.stop();
    this.unsubscribe();
    for (const p of [...this.publications.values()]) p.cancel();
    try {
      this.seen?.writer.close();
    } catch (err) {
      this.logger.error({ file: this.seen?.writer.path, err: errorMessage(err) }, "could not write the seen-history state file on stop");
    }
  }

  /**
   * Registers the consumer of one envelope kind (one per kind; later calls
   * replace). Register before start(): an envelope of a kind without a
   * consumer is relayed and remembered, never consumed later.
   */
  onEnvelope(kind: pb.EnvelopeKind, handler: EnvelopeHandler, opts: { replaySafe?: boolean } = {}): void {
    this.handlers.set(kind, handler);
    if (opts.replaySafe) this.replaySafe.add(kind);
  }

  /**
   * The relay policy of one kind: whether an envelope spreads (burst,
   * advertise, push-pull) or stays with the node it reached (a channel
   * message for one node: nobody else needs it). Default: every envelope
   * spreads. A kept envelope is still served to whoever asks for its ID
   * (the origin's directed repair advertises it to its expected node).
   */
  onRelay(kind: pb.EnvelopeKind, spreads: (env: Envelope) => boolean): void {
    this.relays.set(kind, spreads);
    this.spreadingOf = undefined;
  }

  /** Creates an envelope from this node and starts its burst; the local consumer runs it too. */
  publish(kind: pb.EnvelopeKind, payload: Uint8Array, opts: PublishOptions = {}): PublishResult {
    const env = createEnvelope({ origin: this.m.localName, originAddress: this.m.localAddress, kind, payload, ttlMs: opts.ttlMs ?? this.config.defaultTtlMs }, this.clock, this.o.random);
    return this.publishEnvelope(env, opts);
  }

  /**
   * Publishes an envelope built elsewhere (an operator-signed batch: its ID,
   * origin and times are covered by the signature). Its origin must be this node.
   */
  publishEnvelope(env: Envelope, opts: PublishOptions = {}): PublishResult {
    if (!this.started || this.stopped) return { ok: false, error: "the dissemination layer is not running" };
    if (env.origin !== this.m.localName || env.originAddress !== this.m.localAddress) {
      return { ok: false, error: `envelope origin ${env.origin} (${env.originAddress}) is not this node, ${this.m.localName} (${this.m.localAddress})` };
    }
    const now = this.clock.now();
    const problem = envelopeProblem(env, now, this.config) ?? (isExpired(env, now) ? "envelope has already expired" : null);
    if (problem) return { ok: false, error: problem };
    const size = envelopeBytes(env);
    if (size > this.config.maxEnvelopeBytes) {
      return {
        ok: false,
        error: `envelope of ${size} bytes exceeds the maximum of ${this.config.maxEnvelopeBytes} bytes (maxEnvelopeBytes): make the batch smaller or raise the limit on every node`,
      };
    }
    if (!this.history.add(env)) return { ok: false, error: `envelope ${idToHex(env.id)} was already published or seen here` };
    this.stats.published++;
    this.antiEntropy.activity();
    const unrecorded = this.record(env);
    const pub = new Publication(env, opts.expected, (p) => this.publications.delete(p.idHex));
    this.publications.set(pub.idHex, pub);
    pub.start((node) => (node === this.m.localName ? "alive" : this.m.member(node)?.status), this.clock);
    if (this.spreads(env)) this.burst(env, null, undefined, opts.pushFirst);
    else if (opts.pushFirst !== undefined && opts.pushFirst !== this.m.localName) this.burst(env, null, undefined, opts.pushFirst, true);
    if (!pub.done) this.repair.watch(pub);
    // The publisher vouched for it (a signature was checked at the API): it
    // spreads, but this node runs it only if it would admit it from a peer.
    const admission = this.o.admit?.(env) ?? ADMITTED;
    if (admission.ok) void this.consume(env, now, unrecorded, true);
    else if (admission.answer && this.handlers.has(env.kind)) this.answer(env, now, { rejected: admission.reason });
    return { ok: true, publication: pub };
  }

  /** PushPullDelegate: the IDs of this node's live envelopes. */
  localState(_join: boolean): Uint8Array {
    const standing = this.o.standing?.envelopes() ?? [];
    this.stats.standingSent += standing.length;
    return encodeLiveIds(
      this.spreading()
        .slice(0, this.config.maxAdvertiseIds)
        .map((e) => e.id),
      standing,
    );
  }

  /** PushPullDelegate: fetch the live envelopes the peer has and this node lacks. */
  mergeRemoteState(state: Uint8Array, _join: boolean, from: Address): void {
    if (this.stopped || state.length === 0) return;
    const decoded = decodeLiveIds(state);
    if (!decoded.ok) {
      this.stats.decodeErrors++;
      this.rateLog.warn("live-ids", { peer: from, error: decoded.error }, "dropped undecodable gossip state from push-pull");
      return;
    }
    void this.antiEntropy.fetch(from, decoded.value.ids.slice(0, this.config.maxAdvertiseIds));
    if (this.o.standing) this.acceptStanding(decoded.value.standing.slice(0, MAX_STANDING_PER_STATE), from, this.o.standing);
  }

  /** Standing envelopes from a push-pull: well-formed (expiry aside: they outlive their TTL on purpose) and admitted, or dropped and counted. */
  private acceptStanding(envs: Envelope[], from: Address, standing: StandingEnvelopes): void {
    const now = this.clock.now();
    for (const env of envs) {
      if (standing.known(env)) continue;
      const problem = envelopeProblem(env, now, this.config) ?? (envelopeBytes(env) > this.config.maxEnvelopeBytes ? "envelope too large" : null);
      if (problem) {
        this.stats.invalidDropped++;
        this.rateLog.warn("standing-invalid", { peer: from, envelope: idToHex(env.id), error: problem }, `dropped a standing envelope from ${from}'s push-pull state: ${problem}`);
        continue;
      }
      const admission = this.o.admit?.(env) ?? ADMITTED;
      if (!admission.ok) {
        this.stats.refusedAdmission++;
        this.rateLog.warn("standing-refused", { peer: from, envelope: idToHex(env.id), reason: admission.reason }, `refused a standing envelope from ${from}'s push-pull state: ${admission.reason}`);
        continue;
      }
      this.stats.standingReceived++;
      standing.accept(env, from);
    }
  }

  counters(): GossipCounters {
    return { ...this.stats, historySize: this.history.size, liveEnvelopes: this.live().length };
  }

  /** The live envelopes that spread (what anti-entropy advertises and push-pull hands over), newest first; the same array while the live set is unchanged. */
  private spreading(): readonly Envelope[] {
    const live = this.live();
    if (this.spreadingOf?.live !== live) this.spreadingOf = { live, spreading: this.relays.size === 0 ? live : live.filter((e) => this.spreads(e)) };
    return this.spreadingOf.spreading;
  }

  private spreads(env: Envelope): boolean {
    return this.relays.get(env.kind)?.(env) ?? true;
  }

  /** Envelopes live in the seen-history, newest first (anti-entropy, batch history). */
  live(): readonly Envelope[] {
    const now = this.clock.now();
    // Pruned IDs need no write: the log's next compaction (or load) leaves them out.
    this.history.prune(now);
    return this.history.live(now);
  }

  private async handleRequest(body: Uint8Array, from: Address, relay?: Relay): Promise<Uint8Array> {
    if (this.stopped) throw new TransportError("closed", `${this.m.localAddress} is shutting down`);
    this.stats.bytesReceived += body.length;
    const decoded = decodeGossip(body);
    if (!decoded.ok) {
      this.stats.decodeErrors++;
      this.rateLog.warn("decode", { peer: from, error: decoded.error }, "dropped an undecodable gossip message");
      throw new Error(decoded.error);
    }
    const msg = decoded.value;
    let reply = OK;
    switch (msg.kind) {
      case "push": {
        // A push that came with its wire bytes is passed on as it came.
        const problem = this.accept(msg.envelope, from, relay);
        if (problem) throw new Error(problem);
        break;
      }
      // A peer's ID lists are cut to the size this node would send itself, so
      // a hostile list cannot make it track or look up millions of IDs.
      case "advertise":
        reply = encodeGossip({ kind: "want", ids: this.antiEntropy.onAdvertise(from, msg.ids.slice(0, this.config.maxAdvertiseIds), msg.digest, msg.window) });
        break;
      case "live-ids": {
        // The peer's set differs from ours: keep advertising at the base interval.
        this.antiEntropy.activity();
        const ids = this.antiEntropy.liveIds(msg.window);
        this.stats.liveIdsServed++;
        this.stats.advertisedIds += ids.length;
        reply = encodeGossip({ kind: "advertise", from: this.m.localName, ids });
        break;
      }
      case "want":
        reply = encodeGossip({ kind: "deliver", envelopes: this.antiEntropy.serve(msg.ids.slice(0, this.config.maxAdvertiseIds)) });
        break;
      case "deliver":
        for (const env of msg.envelopes) this.accept(env, from);
        break;
      case "reply":
        // Recorded now; acknowledged when the round ends (see AckRounds).
        this.receiveReply(msg.reply);
        await this.acks.next();
        break;
      case "ok":
        break;
    }
    this.stats.bytesSent += reply.length;
    return reply;
  }

  /**
   * First-receipt rules: refuse malformed envelopes (returns why), drop
   * expired ones and duplicates quietly; otherwise remember it, burst it on,
   * and hand it to its consumer without waiting for the forwards.
   */
  private accept(env: Envelope, from: Address, relay?: Relay): string | null {
    const now = this.clock.now();
    const problem = envelopeProblem(env, now, this.config);
    if (problem) {
      this.stats.invalidDropped++;
      this.rateLog.warn("invalid", { peer: from, error: problem }, "refused a malformed envelope");
      return problem;
    }
    if (isExpired(env, now)) {
      this.stats.expiredDropped++;
      return null;
    }
    if (this.history.has(idToHex(env.id))) {
      this.stats.duplicates++;
      return null;
    }
    const admission = this.o.admit?.(env) ?? ADMITTED;
    if (!admission.ok) {
      this.refuse(env, admission, from, now);
      return null;
    }
    this.history.add(env);
    this.stats.received++;
    this.history.prune(now);
    this.antiEntropy.activity();
    const unrecorded = this.record(env);
    if (this.spreads(env)) this.burst(env, from, relay);
    void this.consume(env, now, unrecorded);
    return null;
  }

  /** An envelope refused at admission: dropped, counted, and answered once per copy when it was for this node. */
  private refuse(env: Envelope, admission: Admission & { ok: false }, from: Address, now: number): void {
    if (!this.refused.add(env, now)) {
      this.stats.duplicates++;
      return;
    }
    this.stats.refusedAdmission++;
    this.rateLog.warn(
      "refused-envelope",
      { peer: from, envelope: idToHex(env.id), origin: env.origin, reason: admission.reason },
      `refused envelope ${idToHex(env.id)} (from ${env.origin}, via ${from}): ${admission.reason}; not recorded as seen, so a genuine envelope with this ID is still accepted`,
    );
    if (admission.answer && this.handlers.has(env.kind)) this.answer(env, now, { rejected: admission.reason });
  }

  /**
   * Pushes env to gossipGroup reachable members other than the sender, the
   * origin and us: with a group of 2 or more, one is our successor on the
   * ring of member names and the rest are random. The random ones spread the
   * envelope in log N hops; the successor link closes the gaps a purely
   * random burst leaves (it misses about 1 node in e^gossipGroup, so at 40
   * nodes one batch in five waited for a repair): whoever has the envelope
   * hands it to the next name, so the burst alone reaches every member of
   * a stable ring, and anti-entropy is left for views that disagree.
   *
   * A push received over the wire is passed on as the bytes that came
   * (relay): one encode and seal per envelope, at its origin, instead of
   * one per node; a relaying node of a large batch is left with opening it
   * and writing it to its peers. Its receivers then see the node that
   * sealed it as the sender.
   */
  private burst(env: Envelope, sender: Address | null, relay?: Relay, first?: string, onlyFirst = false): void {
    const me = this.m.localName;
    let peers = this.m.reachablePeers().filter((p) => p.address !== sender && p.name !== env.origin && p.name !== me);
    const group = this.config.gossipGroup;
    let targets: typeof peers;
    const firstPeer = first === undefined ? undefined : peers.find((p) => p.name === first);
    if (firstPeer) peers = peers.filter((p) => p !== firstPeer);
    if (group >= 2 && peers.length > group) {
      const next = ringSuccessor(me, peers);
      targets = [
        next,
        ...sample(
          peers.filter((p) => p !== next),
          group - 1,
          this.o.random,
        ),
      ];
    } else {
      targets = sample(peers, group, this.o.random);
    }
    // The node it is for first, then the usual burst (the successor kept) one smaller.
    if (firstPeer) targets = [firstPeer, ...(onlyFirst ? [] : targets.slice(0, Math.max(0, group - 1)))];
    else if (onlyFirst) targets = [];
    if (targets.length === 0) return;
    // Relayed, the push keeps the bytes (and the sender) it came with: no encoding or sealing here.
    const body = relay?.body ?? encodeGossip({ kind: "push", envelope: env });
    const sent = this.requester.sendAll(
      targets.map((p) => p.address),
      body,
      env.id,
      relay,
    );
    this.stats.forwarded += targets.length;
    sent.forEach((p, i) =>
      p.catch((err: Error) => {
        this.stats.forwardFailed++;
        if (err instanceof TransportError && err.code === "too_large") {
          this.rateLog.warn(
            "too-large",
            { peer: targets[i]!.address, envelope: idToHex(env.id), error: err.message },
            "a peer refused an envelope as too large: align the maximum frame size on every node",
          );
        }
      }),
    );
  }

  /**
   * Appends a newly seen envelope's ID to the state file (synchronously, so it
   * is there before the consumer runs). Returns why it could not, or null.
   */
  private record(env: Envelope): string | null {
    if (!this.seen) return null;
    try {
      this.seen.writer.append({ id: idToHex(env.id), retainUntilMs: expiresAtMs(env) + this.config.maxClockSkewMs }, this.history.size, () => this.history.records());
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  }

  /**
   * `unrecorded`: why the envelope's ID is not in the state file (then it
   * must not run), or null. `local`: published here now, through the control
   * API, so it cannot be one that ran before this history began.
   */
  private async consume(env: Envelope, receivedMs: number, unrecorded: string | null, local = false): Promise<void> {
    const handler = this.handlers.get(env.kind);
    if (!handler) return; // relay only
    if (this.seen && !local && !this.replaySafe.has(env.kind) && env.createdMs < this.seen.unsafeBeforeMs) {
      // Created before this node's history began: it may have run here in a life whose record is lost.
      this.stats.refusedUnsafe++;
      this.logger.warn(
        { envelope: idToHex(env.id), origin: env.origin, createdMs: env.createdMs, historyBeganMs: this.seen.beganMs },
        `did not run envelope ${idToHex(env.id)} from ${env.origin}: ${this.seen.unsafeReason}`,
      );
      this.answer(env, receivedMs, { rejected: this.seen.unsafeReason });
      return;
    }
    if (unrecorded !== null) {
      // Only an envelope on disk before it runs cannot be replayed after a crash.
      this.stats.refusedUnsafe++;
      const why = `not run: could not record it in ${this.seen?.writer.path} (${unrecorded}), so a restart could run it again; fix the data dir`;
      this.logger.error({ envelope: idToHex(env.id), file: this.seen?.writer.path }, why);
      this.answer(env, receivedMs, { rejected: why });
      return;
    }
    if (this.stopped) return;
    if (isExpired(env, this.clock.now())) {
      this.stats.expiredDropped++;
      return;
    }
    this.stats.consumed++;
    let body: ReplyBody | null;
    try {
      body = await handler(env);
    } catch (err) {
      this.logger.error({ envelope: idToHex(env.id), kind: env.kind, err: errorMessage(err) }, "envelope consumer failed");
      body = { rejected: `the node failed while handling the envelope: ${errorMessage(err)}` };
    }
    if (body && !this.stopped) this.answer(env, receivedMs, body);
  }

  private answer(env: Envelope, receivedMs: number, body: ReplyBody): void {
    const reply = pb.NodeReply.create({
      envelopeId: env.id,
      node: this.m.localName,
      address: this.m.localAddress,
      receivedMs,
      finishedMs: this.clock.now(),
      ...body,
    });
    if (env.origin === this.m.localName) this.receiveReply(reply);
    else this.replies.send(env, reply);
  }

  private receiveReply(reply: pb.NodeReply): void {
    this.stats.repliesReceived++;
    const pub = this.publications.get(idToHex(reply.envelopeId));
    if (pub && !pub.isExpected(reply.node) && pub.replyCount >= this.config.maxRepliesPerEnvelope) {
      this.stats.repliesDropped++;
      this.rateLog.warn(
        "reply-limit",
        { envelope: pub.idHex, node: reply.node, limit: this.config.maxRepliesPerEnvelope },
        "dropped a reply from an unexpected node: the envelope already has the maximum number of replies",
      );
      return;
    }
    if (!pub || !pub.recordReply(reply)) this.stats.repliesDropped++;
  }

  private onMemberEvent(e: MemberEvent): void {
    // A member that joins (or comes back) may lack live envelopes: advertise at the base interval.
    if (e.type === "join") this.antiEntropy.activity();
    if (e.type === "fail" || e.type === "leave") {
      for (const p of [...this.publications.values()]) p.markUnreachable(e.member.name, e.type === "fail" ? "failed" : "left");
    }
    this.replies.onMemberEvent(e);
  }
}

/** The member whose name follows `name` on the ring of names (wrapping to the smallest); peers is not empty. */
function ringSuccessor<T extends { name: string }>(name: string, peers: readonly T[]): T {
  let next: T | undefined;
  let first = peers[0]!;
  for (const p of peers) {
    if (p.name < first.name) first = p;
    if (p.name > name && (next === undefined || p.name < next.name)) next = p;
  }
  return next ?? first;
}
