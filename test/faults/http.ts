import type { MeteringFrame } from '@metering-hub/shared';

/** Returns the hub's latest frame from `GET /stats`. */
export async function fetchStats(base: string): Promise<MeteringFrame> {
  const response = await fetch(`${base}/stats`);
  if (response.status !== 200) throw new Error(`GET ${base}/stats returned ${response.status}.`);
  return (await response.json()) as MeteringFrame;
}

/** Returns the status code of `GET /readyz`. */
export async function readyStatus(base: string): Promise<number> {
  const response = await fetch(`${base}/readyz`);
  await response.body?.cancel();
  return response.status;
}
