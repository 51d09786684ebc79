import fc from 'fast-check';

/**
 * Sequences of node messages for property tests: valid updates of a small
 * fleet, mixed with garbage that the hub must reject or ignore. A step is
 * plain data (indices and amounts), and `FleetModel.render` turns it into
 * message text against the fleet's state at that point, so fast-check can
 * shrink a failing sequence step by step.
 */

/** Largest message the ingests under test accept, so a too-large one is cheap to build. */
export const MAX_MESSAGE_BYTES = 16_384;

const DAY_MS = 86_400_000;
const MAX_SAFE_PLUS_ONE = '9007199254740992';

// Ids named like Object members, to catch a key that is not kept apart.
const NODE_IDS = ['n0', '__proto__', 'constructor'];
const STREAM_IDS = ['s0', '__proto__', 'constructor', 'toString'];
// Ids no valid step uses: an entry for one must never create a stream.
const GHOST_IDS = ['g0', 'hasOwnProperty', 'valueOf', 'prototype'];
const MODELS = ['llama', 'qwen', undefined, 'deepseek'];

/** One stream of a valid update: what it gains since its previous entry. */
export interface StreamAdvance {
  index: number;
  outStep: number;
  reasoningStep: number;
  ttftMs: number;
  withToken: boolean;
  end: boolean;
}

const MUTATIONS = [
  'drop_message_field',
  'drop_entry_field',
  'wrong_type',
  'huge_number',
  'negative',
  'fractional',
  'unsafe_integer',
  'nan_string',
  'nan_token',
  'extra_member',
  'bad_version',
  'bad_id',
  'bad_node',
  'bad_model',
  'duplicate_id',
  'first_after_last',
  'half_timing',
  'tokens_without_time',
  'truncated',
  'too_large',
  'streams_not_array',
] as const;
type Mutation = (typeof MUTATIONS)[number];

const FAULTS = ['regressed', 'long_span', 'far_future', 'began_after_first', 'too_fast', 'ended_ghost'] as const;
type Fault = (typeof FAULTS)[number];

export type Action =
  | { kind: 'valid'; node: number; streams: StreamAdvance[]; gapMs: number; bye: boolean }
  | { kind: 'text'; text: string }
  | { kind: 'json'; value: unknown }
  | { kind: 'mutated'; node: number; index: number; mutation: Mutation; pick: number }
  | { kind: 'ignored'; node: number; index: number; fault: Fault; amount: number };

export interface Step {
  action: Action;
  /** Ms the hub's clock moves after the message. */
  clockMs: number;
}

const streamAdvance = fc.record({
  index: fc.nat(STREAM_IDS.length - 1),
  outStep: fc.integer({ min: 1, max: 20 }),
  reasoningStep: fc.integer({ min: 0, max: 10 }),
  ttftMs: fc.integer({ min: 0, max: 3_000 }),
  withToken: fc.boolean(),
  // One entry in six ends its stream.
  end: fc.integer({ min: 0, max: 5 }).map((draw) => draw === 0),
});

const node = fc.nat(NODE_IDS.length - 1);
const streamIndex = fc.nat(STREAM_IDS.length - 1);

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('valid' as const),
      node,
      streams: fc.uniqueArray(streamAdvance, { selector: (advance) => advance.index, maxLength: STREAM_IDS.length }),
      gapMs: fc.integer({ min: 10, max: 2_000 }),
      bye: fc.integer({ min: 0, max: 19 }).map((draw) => draw === 0),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('text' as const), text: fc.string({ unit: 'binary', maxLength: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('json' as const), value: fc.jsonValue({ maxDepth: 3 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('json' as const),
      value: fc.record({ v: fc.jsonValue({ maxDepth: 1 }), node: fc.jsonValue({ maxDepth: 1 }), streams: fc.jsonValue({ maxDepth: 2 }) }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('mutated' as const),
      node,
      index: streamIndex,
      mutation: fc.constantFrom(...MUTATIONS),
      pick: fc.nat(1_000),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('ignored' as const),
      node,
      index: streamIndex,
      fault: fc.constantFrom(...FAULTS),
      amount: fc.nat(1_000_000),
    }),
  },
);

/**
 * Sequences of 5 to 40 steps. The hub's clock moves at most 1.4 s a step,
 * so no stream goes stale (60 s) within a sequence. That matters because
 * a late replay of a stream that the meter dropped as stale, but that is
 * still open in the model, would be adopted as a new stream.
 */
export const steps: fc.Arbitrary<Step[]> = fc.array(
  fc.record({ action, clockMs: fc.integer({ min: 0, max: 1_400 }) }),
  { minLength: 5, maxLength: 40, size: 'max' },
);

interface StreamState {
  beganAt: number;
  firstAt: number | null;
  lastAt: number | null;
  out: number;
  reasoning: number;
}

interface Entry extends StreamState {
  id: string;
  model?: string;
  ended: boolean;
}

interface NodeState {
  /** The node's own clock in ms, far from the hub's and from the other nodes'. */
  clock: number;
  streams: (StreamState | undefined)[];
}

/** A rendered step: the message text and whether it is a valid update. */
export interface Rendered {
  raw: string;
  valid: boolean;
  /** What the hub must do with it, for garbage: reject it or ignore its entry. */
  expected?: 'rejected' | 'ignored' | 'rejected_or_no_op';
}

/** State of a fleet of nodes that send only valid updates. */
export class FleetModel {
  private readonly nodes: NodeState[] = NODE_IDS.map((_, index) => ({
    clock: 1_764_842_000_000 + index * 7_777_777,
    streams: STREAM_IDS.map(() => undefined),
  }));

  /** Returns the message of one step, advancing the model for a valid update. */
  render(action: Action): Rendered {
    switch (action.kind) {
      case 'valid':
        return { raw: this.advance(action.node, action.streams, action.gapMs, action.bye), valid: true };
      case 'text':
        return { raw: action.text, valid: false, expected: 'rejected_or_no_op' };
      case 'json':
        return { raw: JSON.stringify(action.value) ?? 'undefined', valid: false, expected: 'rejected_or_no_op' };
      case 'mutated':
        return { raw: this.mutated(action.node, action.index, action.mutation, action.pick), valid: false, expected: 'rejected' };
      case 'ignored':
        return { raw: this.ignored(action.node, action.index, action.fault, action.amount), valid: false, expected: 'ignored' };
    }
  }

  private advance(nodeIndex: number, advances: StreamAdvance[], gapMs: number, bye: boolean): string {
    const state = this.node(nodeIndex);
    state.clock += gapMs;
    const entries = advances.map((advance) => this.advanceStream(state, advance));
    if (bye) state.streams.fill(undefined);
    return message(nodeIndex, entries, bye ? { bye: true } : {});
  }

  // Counts only grow, lastAt only moves on and firstAt never changes, at
  // most 30 tokens per 10 ms: far below the hub's rate bound.
  private advanceStream(state: NodeState, advance: StreamAdvance): Entry {
    const now = state.clock;
    let stream = state.streams[advance.index];
    if (!stream) {
      stream = advance.withToken
        ? { beganAt: now - advance.ttftMs, firstAt: now, lastAt: now, out: advance.outStep, reasoning: advance.reasoningStep }
        : { beganAt: now, firstAt: null, lastAt: null, out: 0, reasoning: 0 };
    } else {
      stream = {
        ...stream,
        firstAt: stream.firstAt ?? now,
        lastAt: now,
        out: stream.out + advance.outStep,
        reasoning: stream.reasoning + advance.reasoningStep,
      };
    }

    state.streams[advance.index] = advance.end ? undefined : stream;
    return entry(advance.index, stream, advance.end);
  }

  // A message of one entry, based on the stream's state, then broken so
  // the decoder must reject it.
  private mutated(nodeIndex: number, index: number, mutation: Mutation, pick: number): string {
    const state = this.node(nodeIndex);
    const stream = state.streams[index] ?? { beganAt: state.clock, firstAt: null, lastAt: null, out: 0, reasoning: 0 };
    const base = entry(index, stream, false) as unknown as Record<string, unknown>;
    const body: Record<string, unknown> = { v: 1, node: NODE_IDS[nodeIndex], streams: [base] };
    const choose = <T>(options: readonly T[]): T => options[pick % options.length] as T;
    const numericField = choose(['out', 'reasoning', 'beganAt', 'firstAt', 'lastAt']);
    const countField = choose(['out', 'reasoning']);

    switch (mutation) {
      case 'drop_message_field':
        delete body[choose(['v', 'node', 'streams'])];
        return JSON.stringify(body);
      case 'drop_entry_field':
        delete base[choose(['id', 'beganAt', 'firstAt', 'lastAt', 'out', 'reasoning', 'ended'])];
        return JSON.stringify(body);
      case 'wrong_type': {
        const field = choose(['out', 'reasoning', 'beganAt', 'firstAt', 'lastAt', 'ended', 'id']);
        const values = field === 'ended' ? ['true', 1, [true], {}] : field === 'id' ? [12, true, ['s0'], {}] : ['12', true, [1], {}];
        base[field] = values[Math.floor(pick / 7) % values.length];
        return JSON.stringify(body);
      }
      case 'huge_number':
        return withRaw(body, base, numericField, choose(['1e309', '-1e309', '1e400']));
      case 'negative':
        base[numericField] = -1 - pick;
        return JSON.stringify(body);
      case 'fractional':
        base[countField] = (stream.out || 1) + 0.5;
        return JSON.stringify(body);
      case 'unsafe_integer':
        return withRaw(body, base, countField, choose([MAX_SAFE_PLUS_ONE, '9007199254740993', '1e16', '1e20']));
      case 'nan_string':
        base[numericField] = choose(['NaN', 'Infinity', '-Infinity']);
        return JSON.stringify(body);
      case 'nan_token':
        return withRaw(body, base, numericField, choose(['NaN', 'Infinity', '-Infinity', 'undefined']));
      case 'extra_member': {
        const name = choose(['x', 'tokens', '__proto__', 'constructor', 'prototype']);
        const text = JSON.stringify(body);
        // Written into the text, because assigning __proto__ to an object
        // sets its prototype instead of adding a member.
        return pick % 2 === 0
          ? text.replace('{', `{"${name}":{"bye":true},`)
          : text.replace('"streams":[{', `"streams":[{"${name}":{"ended":true},`);
      }
      case 'bad_version':
        body.v = choose([2, 0, '1', null]);
        return JSON.stringify(body);
      case 'bad_id':
        base.id = choose(['', 'x'.repeat(257)]);
        return JSON.stringify(body);
      case 'bad_node':
        body.node = choose(['', 'n'.repeat(129)]);
        return JSON.stringify(body);
      case 'bad_model':
        base.model = choose(['', 'm'.repeat(129)]);
        return JSON.stringify(body);
      case 'duplicate_id':
        body.streams = [base, { ...base }];
        return JSON.stringify(body);
      case 'first_after_last':
        Object.assign(base, { firstAt: state.clock + 1 + pick, lastAt: state.clock });
        return JSON.stringify(body);
      case 'half_timing':
        Object.assign(base, pick % 2 === 0 ? { firstAt: state.clock, lastAt: null } : { firstAt: null, lastAt: state.clock });
        return JSON.stringify(body);
      case 'tokens_without_time':
        Object.assign(base, { firstAt: null, lastAt: null, out: 1 + pick });
        return JSON.stringify(body);
      case 'truncated': {
        const text = JSON.stringify(body);
        return text.slice(0, pick % text.length);
      }
      case 'too_large':
        body.pad = 'x'.repeat(MAX_MESSAGE_BYTES);
        return JSON.stringify(body);
      case 'streams_not_array':
        body.streams = choose([base, 'streams', 1, null]);
        return JSON.stringify(body);
    }
  }

  // A message that passes decoding with one entry the hub must ignore. It
  // targets the node's first stream with a token from `start` on, or a
  // ghost id when the node has none.
  private ignored(nodeIndex: number, start: number, fault: Fault, amount: number): string {
    const state = this.node(nodeIndex);
    const index = firstStreamWithToken(state, start) ?? start;
    const open = state.streams[index];
    const now = state.clock;
    const ghost = (fields: Partial<Entry>) => ({
      id: GHOST_IDS[index] as string,
      beganAt: now,
      firstAt: now,
      lastAt: now,
      out: 1,
      reasoning: 0,
      ended: false,
      ...fields,
    });
    const target = (fields: Partial<Entry>) => {
      if (!open || open.firstAt === null || open.lastAt === null) return ghost(fields);
      return { ...entry(index, open, false), out: open.out + 1, ...fields };
    };

    let ignoredEntry: object;
    switch (fault) {
      case 'regressed':
        ignoredEntry = open && open.out >= 1
          ? { ...entry(index, open, false), out: open.out - 1 - (amount % open.out) }
          : ghost({ ended: true });
        break;
      case 'long_span':
        ignoredEntry = target({ lastAt: (open?.firstAt ?? now) + DAY_MS + 1 + amount });
        break;
      case 'far_future':
        ignoredEntry = target({ lastAt: amount % 2 === 0 ? 8.64e15 : 1e300 });
        break;
      case 'began_after_first':
        ignoredEntry = target({ beganAt: (open?.firstAt ?? now) + 1_001 + amount });
        break;
      case 'too_fast': {
        const firstAt = open?.firstAt ?? now;
        ignoredEntry = target({ lastAt: firstAt + 1, out: (open?.out ?? 0) + 1e12 });
        break;
      }
      case 'ended_ghost':
        ignoredEntry = ghost({ ended: true });
        break;
    }
    return message(nodeIndex, [ignoredEntry], {});
  }

  private node(index: number): NodeState {
    return this.nodes[index] as NodeState;
  }
}

function firstStreamWithToken(state: NodeState, start: number): number | undefined {
  for (let offset = 0; offset < state.streams.length; offset += 1) {
    const index = (start + offset) % state.streams.length;
    if (state.streams[index]?.firstAt != null) return index;
  }
  return undefined;
}

function entry(index: number, stream: StreamState, ended: boolean): Entry {
  const model = MODELS[index];
  return { id: STREAM_IDS[index] as string, ...(model ? { model } : {}), ...stream, ended };
}

function message(nodeIndex: number, streams: object[], extra: object): string {
  return JSON.stringify({ v: 1, node: NODE_IDS[nodeIndex], streams, ...extra });
}

// Writes `raw` as the value of one entry field, for numbers and tokens
// that JSON.stringify cannot write.
function withRaw(body: object, base: Record<string, unknown>, field: string, raw: string): string {
  base[field] = '@raw@';
  return JSON.stringify(body).replace('"@raw@"', raw);
}
