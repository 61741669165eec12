/**
 * `work`, or a failure after two minutes. Not a timing assertion: for tests of waits that must end (a lost
 * connection's COPY, a commit on it), where a regression would otherwise hang the whole test run. Generous,
 * and the timer is cleared however `work` ends.
 */
export async function withinMinutes<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still waiting after 2 minutes`)), 120_000);
  });
  try {
    return await Promise.race([work, hung]);
  } finally {
    clearTimeout(timer);
  }
}
