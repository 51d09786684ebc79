export type { Bus, BusErrorCode, MessageListener } from './bus/bus.js';
export { BusError } from './bus/bus.js';
export { MemoryBus } from './bus/memory-bus.js';
export { Inbox, type InboxOptions, type InboxSource } from './bus/inbox.js';
export { quitOrDisconnect, RedisBus, type RedisBusOptions } from './bus/redis-bus.js';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  decodeUpdateMessage,
  type DecodeResult,
  REJECT_REASONS,
  type RejectReason,
} from './contract/decode-update.js';
export {
  type ClientToServerEvents,
  type ErrorReply,
  type GroupFigures,
  type HistoryPoint,
  METERING_ROOM,
  type MeteringFrame,
  MODEL_ROOM_PREFIX,
  NODE_ROOM_PREFIX,
  type ServerToClientEvents,
  type SliceFrame,
  type TtftFigures,
  type WebSocketFrame,
} from './contract/frame.js';
export {
  DEFAULT_CHANNEL,
  type StreamUpdate,
  StreamUpdateSchema,
  UPDATE_MESSAGE_VERSION,
  type UpdateMessage,
  UpdateMessageSchema,
} from './contract/update-message.js';
export { createRootLogger, type Logger, LogThrottle } from './logging.js';
export {
  createPublisher,
  type Publisher,
  PublisherConfigError,
  type PublisherOptions,
  type PublisherStats,
} from './publisher/publisher.js';
export { jsonSchemaText } from './contract/json-schema.js';
export * from './openai/index.js';
