export type {
  ChatCompletionChunkChoiceLike,
  ChatCompletionChunkLike,
  ChatCompletionDeltaLike,
  ChatCompletionUsageLike,
} from './chat-chunk.js';
export { meterChatStream, type MeterChatStreamOptions } from './meter-chat-stream.js';
