import { drawForIndex } from './random.js';

/** A model label the simulated fleet serves. */
export interface WorkloadModel {
  /** Model label sent with each stream. */
  name: string;
  /** Relative share of the requests served by this model. */
  weight: number;
  /**
   * Fraction of each stream's generated tokens that are reasoning tokens,
   * sent before the visible output as thinking models do. 0 for none.
   */
  reasoningShare: number;
}

/**
 * The demo's model mix, a choice of this project rather than a fact of the
 * trace (it records no model): two chat models and one thinking model whose
 * streams spend 40% of their tokens reasoning.
 */
export const DEFAULT_MODEL_MIX: readonly WorkloadModel[] = [
  { name: 'llama-3.1-70b', weight: 0.5, reasoningShare: 0 },
  { name: 'qwen-2.5-32b', weight: 0.3, reasoningShare: 0 },
  { name: 'deepseek-r1', weight: 0.2, reasoningShare: 0.4 },
];

// Draws for the model are made under a seed of their own, so that adding
// a model mix leaves each stream's rate as it was.
const MODEL_SEED_SALT = 0x5eed_0001;

/** Picks request `index`'s model, the same on every replay with the seed. */
export function modelFor(models: readonly WorkloadModel[], seed: number, index: number): WorkloadModel | undefined {
  const totalWeight = models.reduce((sum, model) => sum + model.weight, 0);
  if (models.length === 0 || !(totalWeight > 0)) return undefined;

  let remaining = drawForIndex(seed ^ MODEL_SEED_SALT, index) * totalWeight;
  for (const model of models) {
    remaining -= model.weight;
    if (remaining < 0) return model;
  }
  return models[models.length - 1];
}

/**
 * Splits `generated` tokens into reasoning and visible output: reasoning
 * comes first, up to its share of the stream's `outputTokens`.
 */
export function splitTokens(generated: number, outputTokens: number, reasoningShare: number): { reasoning: number; output: number } {
  const reasoningBudget = Math.floor(outputTokens * reasoningShare);
  const reasoning = Math.min(generated, reasoningBudget);
  return { reasoning, output: generated - reasoning };
}
