import { WorkloadOptionsError } from './options-check.js';

/** One chat request of a workload, replayed as one stream. */
export interface WorkloadRequest {
  /** Arrival time in ms from the start of the trace. */
  arrivalMs: number;
  /** Output tokens the stream generates. */
  outputTokens: number;
}

/** Throws unless every request has a finite arrival ≥ 0 and a whole token count. */
export function checkRequests(requests: readonly WorkloadRequest[]): void {
  requests.forEach((request, index) => {
    const { arrivalMs, outputTokens } = request;
    if (!Number.isFinite(arrivalMs) || arrivalMs < 0) {
      throw new WorkloadOptionsError(
        `Invalid requests[${index}].arrivalMs ${arrivalMs}: expected a finite number of ms, 0 or more.`,
      );
    }
    if (!Number.isSafeInteger(outputTokens) || outputTokens < 0) {
      throw new WorkloadOptionsError(
        `Invalid requests[${index}].outputTokens ${outputTokens}: expected an integer, 0 or more.`,
      );
    }
  });
}
