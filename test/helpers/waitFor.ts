// The one way tests wait: poll a check until it holds. A test that must show
// something did NOT happen does not sleep and look: it waits for a later event
// that could only come after the unwanted one (a later pass, a later poll),
// then asserts the unwanted one is not in the record.

export interface WaitOptions {
  /** Give up after this long (30 s unless told). */
  timeoutMs?: number;
  /** Pause between two checks (100 ms unless told). */
  intervalMs?: number;
}

/**
 * Calls `check` until it neither throws nor returns `false`, and returns what
 * it returned. A failed `expect`, a refused request or `false` means "not yet".
 * After the timeout it throws, naming `what` and the last failure.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  options: WaitOptions = {},
): Promise<Exclude<T, false>> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  // A check that hangs (a request to a stopped process) must not outlive the timeout.
  const expired = new Promise<typeof EXPIRED>((resolve) => {
    timer = setTimeout(() => resolve(EXPIRED), timeoutMs);
  });
  let last: unknown;
  try {
    for (;;) {
      try {
        const attempt = Promise.resolve().then(check);
        attempt.catch(() => {}); // it may fail after the timeout won the race
        const value = await Promise.race([attempt, expired]);
        if (value === EXPIRED) break;
        if (value !== false) return value as Exclude<T, false>;
        last = undefined;
      } catch (error) {
        last = error;
      }
      if (Date.now() - started >= timeoutMs) break;
      if ((await Promise.race([pause(intervalMs), expired])) === EXPIRED) break;
    }
  } finally {
    clearTimeout(timer);
  }
  const why = last instanceof Error ? `: ${last.message}` : " (the check kept returning false)";
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`, { cause: last });
}

const EXPIRED = Symbol("expired");

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
