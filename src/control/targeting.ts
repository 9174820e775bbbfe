/**
 * What `-node NAME` and `-tag key=value` mean, for batches and stats
 * requests alike: every listed node name, and every listed tag exactly;
 * empty lists match every node. gcheck says it, every daemon applies it.
 */
export function isTargeted(target: { targetNodes: string[]; targetTags: Record<string, string> }, node: { name: string; tags: Record<string, string> }): boolean {
  if (target.targetNodes.length > 0 && !target.targetNodes.includes(node.name)) return false;
  return Object.entries(target.targetTags).every(([k, v]) => Object.hasOwn(node.tags, k) && node.tags[k] === v);
}
