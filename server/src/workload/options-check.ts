/** Invalid options or input passed to a workload function or class. */
export class WorkloadOptionsError extends Error {
  override readonly name = 'WorkloadOptionsError';
  readonly code = 'INVALID_WORKLOAD_OPTIONS';
}

/** Throws unless `value` is a safe integer of at least `min`. */
export function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new WorkloadOptionsError(
      `Invalid ${name} ${describe(value)}: expected an integer of at least ${min}.`,
    );
  }
}

/** Throws unless `value` is a finite number greater than 0. */
export function checkPositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new WorkloadOptionsError(
      `Invalid ${name} ${describe(value)}: expected a finite number above 0.`,
    );
  }
}

/** Throws unless `value` is a finite number. */
export function checkFinite(name: string, value: number): void {
  if (!Number.isFinite(value)) {
    throw new WorkloadOptionsError(`Invalid ${name} ${describe(value)}: expected a finite number.`);
  }
}

/** Throws unless `value` is a finite number, 0 or more. */
export function checkNonNegative(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new WorkloadOptionsError(
      `Invalid ${name} ${describe(value)}: expected a finite number, 0 or more.`,
    );
  }
}

/** Throws unless `value` is in [0, 1). */
export function checkFraction(name: string, value: number): void {
  if (!(value >= 0 && value < 1)) {
    throw new WorkloadOptionsError(
      `Invalid ${name} ${describe(value)}: expected a fraction of at least 0 and below 1.`,
    );
  }
}

/**
 * Returns `defaults` overlaid with the options that are set. An option
 * passed as undefined keeps its default, unlike with a plain spread.
 */
export function withDefaults<T extends object>(defaults: Required<T>, options: T): Required<T> {
  const set = Object.entries(options).filter(([, value]) => value !== undefined);
  return { ...defaults, ...Object.fromEntries(set) };
}

function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
}
