import type { MeteringFrame } from '@metering-hub/shared';

/**
 * Formats a frame as one terminal line: wall time, replay position, then
 * the figures, in fixed columns so a scrolling terminal reads as a table.
 */
export function formatFrameLine(frame: MeteringFrame, replayMs: number): string {
  const time = new Date(frame.at).toISOString().slice(11, 19);
  const fixed = (value: number) => value.toFixed(1).padStart(7);
  return [
    time,
    `replay ${formatDuration(replayMs)}`,
    `tps ${fixed(frame.tps)}`,
    `high ${fixed(frame.high)}`,
    `low ${fixed(frame.low)}`,
    `active ${String(frame.active).padStart(5)}`,
    ...busMarks(frame),
  ].join('  ');
}

// Marks a frame whose figures may not be current, with the reason.
function busMarks(frame: MeteringFrame): string[] {
  if (frame.stale) return ['STALE: no updates from the bus, last figures repeated'];
  if (!frame.busReady) return ['bus not ready'];
  return [];
}

export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  return [hours, minutes, seconds].map((part) => String(part).padStart(2, '0')).join(':');
}
