// The public face of the dissemination layer (what src/daemon wires up).
export { defaultGossipConfig, localGossipConfig, type GossipConfig } from "./config.js";
export type { GossipCounters } from "./counters.js";
export { createEnvelope, hexToId, idToHex, isExpired, expiresAtMs, type Envelope } from "./envelope.js";
export { Disseminator, type DisseminatorOptions, type EnvelopeHandler, type PublishOptions, type PublishResult, type ReplyBody } from "./disseminator.js";
export { Publication, type DoneEvent, type DoneReason, type PublishEvent, type UnreachableReason } from "./publication.js";
export { SEEN_FILE_NAME } from "./seen_file.js";
export {
  generateSigningKeyPair,
  loadTrustedKeys,
  parsePrivateKey,
  parsePublicKey,
  rawPublicKey,
  signEnvelope,
  verifyEnvelope,
  type SigningKeyPair,
  type TrustedKeys,
  type Verdict,
} from "./signing.js";
