// One list read of a level at a time: concurrent steps that re-check the same list (a fleet's
// creates each look for their container first) share the read in flight instead of each running
// the client. A caller may join a read only if nothing was changed through the level since that
// read started: a step that just created, started or deleted something must see its own change,
// so it never takes an answer that may predate it; it starts a read of its own.

export class SharedRead<T> {
  private flight: { version: number; answer: Promise<T> } | null = null;

  /** `version`: counts the changes made through the level (finished or failed) so far. */
  constructor(private readonly version: () => number) {}

  read(run: () => Promise<T>): Promise<T> {
    const now = this.version();
    if (this.flight && this.flight.version === now) return this.flight.answer;
    const answer = run();
    const flight = { version: now, answer };
    this.flight = flight;
    const done = (): void => {
      if (this.flight === flight) this.flight = null;
    };
    answer.then(done, done);
    return answer;
  }
}
