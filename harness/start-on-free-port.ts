import { findFreePort } from "./questdb-process";

/** How many free ports a launcher tries before it gives up on a port that keeps being taken. */
const START_ATTEMPTS = 3;

/**
 * Runs `start` on a free loopback port. A free port may be taken between the check and the bind,
 * so when `start` throws an error that `portWasTaken` recognises, it tries again on another one.
 */
export async function startOnFreePort<T>(
  start: (port: number) => Promise<T>,
  portWasTaken: (error: unknown) => boolean,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    try {
      return await start(port);
    } catch (error) {
      if (attempt >= START_ATTEMPTS || !portWasTaken(error)) throw error;
    }
  }
}
