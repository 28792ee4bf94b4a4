/**
 * A minimal Server-Sent Events reader for tests of the router's subscriptions (graphql-sse's
 * "distinct connections" mode): POSTs the operation with `accept: text/event-stream` and parses
 * the stream into events (`id`, `event`, `data` as JSON), so a test can see exactly what went
 * over the wire — event ids included.
 */
export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: unknown;
}

export interface SseStream {
  readonly status: number;
  /** Every event so far (keep-alive comments left out). */
  readonly events: SseEvent[];
  /** The body when the subscription was refused (status other than 200). */
  readonly refusal: unknown;
  /** Resolves the first event (counting those already received) that matches, or rejects after `timeoutMs`. */
  next(match?: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves once the server ended the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

export async function openSse(
  url: string,
  body: {
    query: string;
    variables?: Record<string, unknown>;
    extensions?: Record<string, unknown>;
  },
  headers: Record<string, string> = {},
): Promise<SseStream> {
  const abort = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify(body),
    signal: abort.signal,
  });
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };
  let refusal: unknown;
  let ended: Promise<void>;
  if (response.status !== 200 || !response.body) {
    refusal = await response.json().catch(() => undefined);
    ended = Promise.resolve();
  } else {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    ended = (async () => {
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const parsed = parseBlock(block);
            if (parsed) {
              events.push(parsed);
              notify();
            }
          }
        }
      } catch {
        // aborted by close()
      } finally {
        notify();
      }
    })();
  }
  let finished = false;
  void ended.then(() => (finished = true));
  return {
    status: response.status,
    events,
    refusal,
    ended,
    next(match = () => true, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(match);
          if (found) {
            cleanup();
            resolve(found);
          } else if (finished) {
            cleanup();
            reject(new Error(`stream ended without a matching event: ${JSON.stringify(events)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching event within ${timeoutMs} ms: ${JSON.stringify(events)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => abort.abort(),
  };
}

function parseBlock(block: string): SseEvent | undefined {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':') || line === '') continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0 && event === 'message') return undefined;
  const text = data.join('\n');
  return { id, event, data: text ? (JSON.parse(text) as unknown) : null };
}
