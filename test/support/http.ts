// What the tests read over HTTP from outside the code under test: JSON from a URL, Prometheus' query API.

/** GET `url` as JSON, within 5 s; an answer other than 2xx throws with its status and the start of its body. */
export async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`GET ${url}: ${response.status} ${text.slice(0, 300)}`);
  }
  return JSON.parse(text) as T;
}

/** One series of an instant query: its labels and its value. */
export interface InstantSample {
  metric: Record<string, string>;
  value: number;
}

/** One series of a range query: its labels and its [unix s, value] samples. */
export interface RangeSeries {
  metric: Record<string, string>;
  values: [number, number][];
}

/** Range of a range query: unix seconds, `step` in seconds (default 1). */
export interface QueryRange {
  start: number;
  end: number;
  step?: number;
}

/**
 * A PromQL query to the Prometheus on 127.0.0.1:`prometheusPort`: instant (`/api/v1/query`) or, given a range,
 * over it (`/api/v1/query_range`). Values are numbers; an answer whose status is not "success" throws with it.
 */
export async function promQuery(prometheusPort: number, query: string): Promise<InstantSample[]>;
export async function promQuery(prometheusPort: number, query: string, range: QueryRange): Promise<RangeSeries[]>;
export async function promQuery(
  prometheusPort: number,
  query: string,
  range?: QueryRange,
): Promise<InstantSample[] | RangeSeries[]> {
  type Result = { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] };
  const url = range
    ? `http://127.0.0.1:${prometheusPort}/api/v1/query_range?${new URLSearchParams({ query, start: String(range.start), end: String(range.end), step: String(range.step ?? 1) })}`
    : `http://127.0.0.1:${prometheusPort}/api/v1/query?${new URLSearchParams({ query })}`;
  const body = await getJson<{ status: string; data?: { result: Result[] } }>(url);
  if (body.status !== 'success' || !body.data) throw new Error(`${url}: ${JSON.stringify(body).slice(0, 300)}`);
  return range
    ? body.data.result.map((entry) => ({
        metric: entry.metric,
        values: (entry.values ?? []).map(([t, v]): [number, number] => [t, Number(v)]),
      }))
    : body.data.result.map((entry) => ({ metric: entry.metric, value: Number(entry.value?.[1]) }));
}
