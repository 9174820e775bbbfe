// Quorum checks: the votes, the cluster-wide verdict and the one node that fires it (the daemon spreads the votes).
export { isFailingVote, neededVotes, firer } from "./votes.js";
export { QuorumBook, type VoteIn, type QuorumCheck, type QuorumChange, type QuorumChangeFacts } from "./book.js";
export type { Quorum, QuorumVerdict } from "../control/watch_types.js";
