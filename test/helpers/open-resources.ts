/**
 * Returns the event-loop resources still open once closed sockets have had
 * a few turns of the event loop to be released. Standard output and error
 * (a TTY or the parent's pipes) are left out.
 */
export async function openResourcesAfterClose(): Promise<string[]> {
  let resources: string[] = [];
  for (let turn = 0; turn < 1_000; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
    resources = process.getActiveResourcesInfo().filter((name) => name !== 'TTYWrap' && name !== 'PipeWrap');
    if (resources.length === 0) break;
  }
  return resources;
}
