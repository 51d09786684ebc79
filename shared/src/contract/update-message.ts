import { type Static, Type } from '@sinclair/typebox';

/** Version carried in `v`. A change that old hubs cannot read bumps it. */
export const UPDATE_MESSAGE_VERSION = 1;

/** Redis channel the nodes publish on and the hubs subscribe to. */
export const DEFAULT_CHANNEL = 'metering:updates';

const timestamp = (description: string) =>
  Type.Number({ minimum: 0, description });

const tokenCount = (description: string) =>
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });

// Frames name the sum of the groups past the 50 busiest "(other)", so a
// node or model of that name would be mistaken for it.
const NOT_THE_SUMMARY_KEY = '^(?!\\(other\\)$)';

/** The whole state of one stream on one node: running totals, never increments. */
export const StreamUpdateSchema = Type.Object(
  {
    id: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'Stream id, unique per node. Any string is valid.',
    }),
    model: Type.Optional(Type.String({
      minLength: 1,
      maxLength: 128,
      pattern: NOT_THE_SUMMARY_KEY,
      description: 'Optional model label; any string but "(other)", the key of the entry that sums the groups past the 50 busiest.',
    })),
    beganAt: timestamp('Node clock, ms since the epoch: the stream began.'),
    firstAt: Type.Union([timestamp('Node clock, ms: the first token.'), Type.Null()]),
    lastAt: Type.Union([timestamp('Node clock, ms: the latest token.'), Type.Null()]),
    out: tokenCount('Running count of output tokens.'),
    reasoning: tokenCount('Running count of reasoning tokens.'),
    ended: Type.Boolean({ description: 'True once: the stream is over.' }),
  },
  { additionalProperties: false },
);

/** The message a node publishes on each flush that has changes. */
export const UpdateMessageSchema = Type.Object(
  {
    v: Type.Literal(UPDATE_MESSAGE_VERSION),
    node: Type.String({
      minLength: 1,
      maxLength: 128,
      pattern: NOT_THE_SUMMARY_KEY,
      description: 'Node id; any string but "(other)". The hub keys a stream by node and stream id together.',
    }),
    streams: Type.Array(StreamUpdateSchema, {
      maxItems: 10_000,
      description: 'Streams that changed since the previous message.',
    }),
    bye: Type.Optional(Type.Boolean({
      description: 'The node shuts down: the hub ends all of its streams.',
    })),
  },
  {
    $id: 'urn:metering-hub:update-message:v1',
    title: 'Metering hub update message, version 1',
    description: 'Rules beyond this schema, checked by the hub: stream ids are unique '
      + 'within a message; firstAt and lastAt are both null or both set; a stream '
      + 'with tokens has them set; firstAt is not after lastAt.',
    additionalProperties: false,
  },
);

export type StreamUpdate = Static<typeof StreamUpdateSchema>;
export type UpdateMessage = Static<typeof UpdateMessageSchema>;
