import type { FleetReplay } from './fleet.js';
import { checkFinite, checkPositive, withDefaults } from './options-check.js';

export interface RealtimeRunOptions {
  /** Real ms between steps of the fleet. @default 50 */
  stepMs?: number;
  /** Reading of `now` that is sim time 0. @default now() when the run starts */
  startAtMs?: number;
  /** Clock in ms. @default () => performance.now() */
  now?: () => number;
  /** Lets the process exit while the run is going. @default false */
  unref?: boolean;
}

/** A fleet replay running on the real clock. */
export interface RealtimeRun {
  /** Clears the timer. The fleet keeps the state of its latest step. */
  stop(): void;
  /**
   * Outcome of the run. It resolves with 'done' once the fleet has ended
   * every stream or with 'stopped' after `stop()`, and it rejects with the
   * error of a step that threw.
   */
  readonly finished: Promise<'done' | 'stopped'>;
}

const defaults: Required<Omit<RealtimeRunOptions, 'startAtMs'>> = {
  stepMs: 50,
  now: () => performance.now(),
  unref: false,
};

/**
 * Advances `fleet` to the real time elapsed since `startAtMs`, once now and
 * then every `stepMs`, until it is done or stopped. Sim time is real time,
 * because a fleet scales only its arrivals by its speed.
 */
export function runFleetRealtime(
  fleet: Pick<FleetReplay, 'advanceTo' | 'done'>,
  options: RealtimeRunOptions = {},
): RealtimeRun {
  const { stepMs, now, unref } = withDefaults(defaults, options);
  checkPositive('stepMs', stepMs);
  const startAtMs = options.startAtMs ?? now();
  checkFinite('startAtMs', startAtMs);

  let settle: (outcome: 'done' | 'stopped' | Error) => void = () => {};
  const finished = new Promise<'done' | 'stopped'>((resolve, reject) => {
    settle = (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome));
  });
  // Marks `finished` as handled, so a caller that never awaits it gets no
  // unhandled rejection. A caller that awaits it still receives the error.
  finished.catch(() => {});

  let timer: NodeJS.Timeout | undefined;
  const stop = (outcome: 'done' | 'stopped' | Error): void => {
    if (timer === undefined) return;
    clearInterval(timer);
    timer = undefined;
    settle(outcome);
  };

  const step = (): void => {
    const elapsedMs = now() - startAtMs;
    // A start set in the future waits, so nothing begins before it.
    if (elapsedMs < 0) return;

    try {
      fleet.advanceTo(elapsedMs);
    } catch (error) {
      stop(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (fleet.done) stop('done');
  };

  timer = setInterval(step, stepMs);
  if (unref) timer.unref();
  step();

  return { stop: () => stop('stopped'), finished };
}
