/**
 * Reading counters from the servers' /metrics (Prometheus text format) to compute per-request
 * figures as deltas around a load run: subgraph fetches, Cassandra statements, DataLoader
 * batches, cache hits and misses.
 */

export type Samples = ReadonlyMap<string, number>;

/** Every sample of a scrape, keyed by its line's name and labels as written. */
export function parseMetrics(text: string): Samples {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const value = Number(line.slice(space + 1));
    if (Number.isFinite(value)) samples.set(line.slice(0, space), value);
  }
  return samples;
}

/** Sums the samples of a metric whose labels include all of `labels`. */
export function sumOf(
  samples: Samples,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  let total = 0;
  for (const [key, value] of samples) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    const labelText = key.slice(name.length);
    const matches = Object.entries(labels).every(([label, wanted]) =>
      labelText.includes(`${label}="${wanted}"`),
    );
    if (matches) total += value;
  }
  return total;
}

export async function scrape(baseUrl: string): Promise<Samples> {
  const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`${baseUrl}/metrics answered ${response.status}`);
  return parseMetrics(await response.text());
}

/** Scrapes several servers at once; a server without /metrics yields an empty map. */
export async function scrapeAll(baseUrls: readonly string[]): Promise<Samples[]> {
  return Promise.all(baseUrls.map((url) => scrape(url).catch(() => new Map<string, number>())));
}

/** Total of `name` over several scrapes (e.g. the three subgraphs). */
export function totalOf(
  scrapes: readonly Samples[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  return scrapes.reduce((sum, samples) => sum + sumOf(samples, name, labels), 0);
}

/**
 * The `q` quantile of a histogram's observations between two scrapes (seconds, as recorded),
 * interpolated linearly within its bucket as Prometheus's histogram_quantile does; null when
 * nothing was observed. Only as fine as the buckets: a figure between two bounds is an estimate.
 */
export function histogramQuantile(
  before: Samples,
  after: Samples,
  name: string,
  q: number,
  labels: Readonly<Record<string, string>> = {},
): number | null {
  const bounds = new Map<number, number>();
  for (const key of after.keys()) {
    const match = /le="([^"]+)"/.exec(key);
    if (!match || !key.startsWith(`${name}_bucket{`)) continue;
    const le = match[1] === '+Inf' ? Infinity : Number(match[1]);
    if (bounds.has(le)) continue;
    const wanted = { ...labels, le: match[1]! };
    bounds.set(
      le,
      sumOf(after, `${name}_bucket`, wanted) - sumOf(before, `${name}_bucket`, wanted),
    );
  }
  const buckets = [...bounds].sort(([a], [b]) => a - b);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Infinity) return lower;
      return lower + ((le - lower) * (rank - below)) / Math.max(count - below, 1e-9);
    }
    lower = le;
    below = count;
  }
  return lower;
}
