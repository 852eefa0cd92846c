/**
 * Time as the scheduler and meters see it. Injected everywhere so benchmarks can run
 * in virtual time and tests never sleep.
 */
export interface Clock {
  /** Milliseconds since an arbitrary epoch; monotonic. */
  now(): number;
  /** Wall-clock time, for records people read. */
  wallNow(): Date;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => new Date(),
};
