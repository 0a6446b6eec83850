/**
 * Gives the caller `work`'s result or, once `ms` passes, the error `timeoutError()` makes, while
 * `work` goes on (the resilient query lets a late result still refresh its cache). The race
 * itself handles a late rejection of the abandoned work; the timer never outlives the race.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
