/**
 * One publisher call made by a fleet replay, stamped with the sim time of
 * the step that made it. Feeding these to a meter on the same clock gives
 * the timeline the hub receives, less the publishers' batching.
 */
export type FleetEvent =
  | { type: 'begin'; atMs: number; id: string; publisherIndex: number; model?: string }
  | { type: 'token' | 'reasoning'; atMs: number; id: string; publisherIndex: number; running: number }
  | { type: 'end'; atMs: number; id: string; publisherIndex: number };
