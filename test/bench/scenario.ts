/** A figure a scenario measured, with its unit. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
}

/** A target checked against a measured ratio or figure. */
export interface TargetCheck {
  /** What is compared, such as "hub rate / bare rate". */
  name: string;
  value: number;
  /** The target as text, such as ">= 0.5" or "< 20 ms". */
  target: string;
  met: boolean;
  /** Why a miss happened or what would reach the target. */
  note?: string;
}

export interface ScenarioResult {
  figures: Figure[];
  targets: TargetCheck[];
}

export interface ScenarioContext {
  /** A short run that only keeps the scenario working (about 20 s). */
  smoke: boolean;
  log: (line: string) => void;
}

/** One benchmark scenario; it starts what it needs and stops it all. */
export interface Scenario {
  /** Short name for --only, such as "ingest". */
  name: string;
  title: string;
  run(context: ScenarioContext): Promise<ScenarioResult>;
}

/** Builds a target check: `value` compared to `limit` with `comparison`. */
export function checkTarget(
  name: string,
  value: number,
  comparison: '>=' | '<=' | '<' | '>',
  limit: number,
  unit = '',
  note?: string,
): TargetCheck {
  const met = comparison === '>=' ? value >= limit
    : comparison === '<=' ? value <= limit
      : comparison === '<' ? value < limit
        : value > limit;
  return { name, value, target: `${comparison} ${limit}${unit ? ` ${unit}` : ''}`, met, ...(note ? { note } : {}) };
}
