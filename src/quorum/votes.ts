import type { CheckStatus } from "../checks/types.js";
import type { Quorum } from "../control/watch_types.js";

/*
 * The arithmetic of a quorum check: which votes count as failing, how many
 * are needed, and which node speaks for the cluster.
 */

/**
 * Whether a voter's status is a failing vote: `fail` and `error`. An error
 * means the voter could not see the service healthy (its name does not
 * resolve, the TLS handshake breaks, the probe cannot run), which from the
 * service's users' side is an outage too; clusterduck likewise counts any
 * check that did not succeed. A quorum exists to keep one voter's own
 * trouble from tripping the verdict, so a single node's error cannot trip it
 * alone, while the same error on K nodes is what the operator must hear.
 * `warn` (degraded but up), `pass`, `fixed` (an action made it pass) and no
 * vote yet are not failing.
 */
export function isFailingVote(status: CheckStatus): boolean {
  return status === "fail" || status === "error";
}

/**
 * Failing votes needed for a failing verdict among `voters` live voters: K,
 * or floor(voters/2)+1 for a majority (at least 1, so no voter at all is
 * never a failing verdict). A K above the voters is returned as it is: the
 * verdict cannot fail then, and says so (QuorumVerdict.unreachable).
 */
export function neededVotes(q: Quorum, voters: number): number {
  return q === "majority" ? Math.floor(Math.max(0, voters) / 2) + 1 : q;
}

/**
 * The node that fires quorum-fail and quorum-recover for the cluster: the
 * first live voter in code-unit order (not locale order, which differs
 * between hosts). Every node derives it from the member list they share, so
 * they agree whenever their views agree; see QuorumBook for when they do not.
 */
export function firer(liveVoters: readonly string[]): string | undefined {
  let first: string | undefined;
  for (const n of liveVoters) if (first === undefined || n < first) first = n;
  return first;
}
