/**
 * Key of a stream in the hub: node id and stream id together. The length
 * prefix keeps keys unique whatever characters the ids contain.
 */
export function streamKey(node: string, id: string): string {
  return `${node.length}:${node}${id}`;
}
