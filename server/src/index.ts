export { ConfigError, type HubConfig, readConfig } from './config.js';
export { Hub, type HubOptions, type HubStats } from './hub/hub.js';
export { History, type HistoryOptions } from './hub/history.js';
export { realScheduler, type Scheduler } from './hub/ticker.js';
export { Ingest, type IngestOptions, type IngestStats } from './ingest/ingest.js';
export { streamKey, StreamKeys } from './ingest/stream-key.js';
export { Meter, type MeterOptions, type Snapshot } from './meter/meter.js';
export { roundTenth } from './meter/round.js';
export { replayTrace, type TraceEvent, type TraceResult } from './replay/trace.js';
