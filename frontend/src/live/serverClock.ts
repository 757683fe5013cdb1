// The server's clock as the browser can know it: from the `Date` header of its answers. A browser
// whose clock runs ahead of the server's (or behind) must not judge the server's epoch-ms
// timestamps (a run's heartbeat_at) by its own Date.now(): five minutes ahead, every running
// run's last heartbeat would look five minutes old.
//
// `Date` has one-second resolution and is stamped before the answer travels, so each sample
// (Date − the browser's time on receipt) is at most the true offset; the largest of the recent
// samples is the closest. Recent only: a browser clock that is corrected later moves with it.

const KEEP = 16;
const samples: number[] = [];

/** Records one answer's `Date` header (ignored when absent or unparsable). */
export function noteServerDate(header: string | null, receivedAt: number = Date.now()): void {
  if (!header) return;
  const server = Date.parse(header);
  if (Number.isNaN(server)) return;
  samples.push(server - receivedAt);
  if (samples.length > KEEP) samples.shift();
}

/** Milliseconds to add to the browser's clock to read the server's (0 before any answer). */
export function serverOffset(): number {
  return samples.length ? Math.max(...samples) : 0;
}

/** The server's time now, as far as its answers tell. */
export function serverNow(now: number = Date.now()): number {
  return now + serverOffset();
}

/** Forgets every sample (unit tests). */
export function resetServerClock(): void {
  samples.length = 0;
}
