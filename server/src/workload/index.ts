export {
  CONV_ARRIVALS_PER_MS,
  CONV_OUTPUT_TOKEN_QUANTILES,
  CONV_REQUEST_COUNT,
  CONV_SPAN_MS,
} from './conv-stats.js';
export { loadConvTrace, TraceFormatError } from './conv-trace.js';
export type { FleetEvent } from './fleet-event.js';
export { FleetReplay, type FleetReplayOptions } from './fleet.js';
export { DEFAULT_MODEL_MIX, modelFor, splitTokens, type WorkloadModel } from './model-mix.js';
export {
  DEFAULT_CONV_TRACE_PATH,
  loadWorkload,
  type LoadWorkloadOptions,
  type Workload,
} from './load-workload.js';
export { WorkloadOptionsError } from './options-check.js';
export { type RealtimeRun, type RealtimeRunOptions, runFleetRealtime } from './realtime-run.js';
export type { WorkloadRequest } from './request.js';
export { syntheticConvTrace, type SyntheticTraceOptions } from './synthetic-trace.js';
export {
  lastTokenAtMs,
  runningOutputAt,
  type StreamTiming,
  tokenArrivalMs,
  tokenTimingDefaults,
  TokenTimingModel,
  type TokenTimingOptions,
} from './token-timing.js';
