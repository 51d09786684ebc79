import { countDeltaPieces, readUsage, type TokenCounts } from './chat-chunk.js';

/**
 * Running token counts of one chat stream. Until a chunk carries `usage`,
 * the counts are an estimate of one token per non-empty content or
 * reasoning delta. A `usage` replaces the estimate with exact figures, so
 * servers that send usage on every chunk are counted exactly throughout.
 *
 * The counts may go down when exact figures replace a high estimate.
 * Callers that need monotonic totals keep the maximum themselves.
 *
 * NOTE: a server that puts several tokens in one delta is undercounted
 * until its `usage` arrives, and for good when it sends none.
 */
export class TokenTally {
  private out = 0;
  private reasoning = 0;

  /** Adds one chunk's pieces, then applies its `usage` if it has one. */
  add(chunk: unknown): void {
    const pieces = countDeltaPieces(chunk);
    this.out += pieces.out;
    this.reasoning += pieces.reasoning;

    const usage = readUsage(chunk);
    if (!usage) return;
    if (usage.reasoningTokens !== undefined) {
      this.reasoning = usage.reasoningTokens;
    }
    // `completion_tokens` includes reasoning tokens. Without a reasoning
    // figure from the server, the estimate is subtracted, so reasoning text
    // is not counted twice.
    this.out = Math.max(0, usage.completionTokens - this.reasoning);
  }

  get counts(): TokenCounts {
    return { out: this.out, reasoning: this.reasoning };
  }
}
