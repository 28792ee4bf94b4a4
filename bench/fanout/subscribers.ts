/**
 * The fan-out scenario's subscribers: N SSE subscriptions in graphql-sse's "distinct
 * connections" mode (one `POST <router>/graphql/stream` per subscription, `accept:
 * text/event-stream`, a JSON body, a bearer token), each on its own socket, parsed here (blocks
 * split on a blank line; `id:`, `event:`, `data:` fields) with every event's receipt time taken
 * from the harness's monotonic clock (`performance.now()`, the clock the writes' ack times use).
 *
 * @remarks
 * Receipts are kept compactly: every distinct event id seen gets an index (the first receipt of
 * an event is parsed in full — robot, kind, battery — the others only have their `id:` line and
 * an `"errors"` substring check read), and each subscriber keeps a Float64Array of receipt
 * times by event index (-1: not received). 1,000 subscribers × 1,000 events is 8 MB.
 *
 * The router answers a subscription's request (status 200, headers and a first `:` comment)
 * only once the subscriber has been authorized and has joined its group's event stream
 * (graphql-sse runs onSubscribe before answering), so a 200 means "established": events
 * appended after it are delivered.
 */
import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';

/** What the scenario needs of one event, from its first receipt. */
export interface EventInfo {
  readonly id: string;
  readonly robotId: string | undefined;
  readonly kind: string | undefined;
  readonly battery: number | null | undefined;
  /** The first receipt had a robot with operator { displayName activeSessionCount } resolved. */
  readonly crossSubgraph: boolean;
}

interface Subscription {
  readonly index: number;
  readonly user: number;
  request: ClientRequest | undefined;
  response: IncomingMessage | undefined;
  /** Receipt time by event index; -1 = not received. */
  times: Float64Array;
  duplicates: number;
  /** Events with GraphQL errors, stream ends, transport errors. */
  errors: number;
  ended: boolean;
  /** Why the stream ended early, if it did (its last `next` with errors, or a transport error). */
  endReason: string | undefined;
}

export interface OpenFigures {
  readonly opened: number;
  readonly refused: number;
  readonly refusalSample?: string;
  readonly seconds: number;
  /** Time from request to the 200 (ms): p50, p99, max. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

const OPEN_TIMEOUT_MS = 30_000;

export class SubscriberPool {
  private readonly agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  private readonly subscriptions: Subscription[] = [];
  private readonly eventIndex = new Map<string, number>();
  readonly events: EventInfo[] = [];
  /** Receipts of `next` events with errors (all subscribers): the first, to say why. */
  errorSample: string | undefined;
  /** Receipts counted while `recording` (all subscribers, duplicates included). */
  receipts = 0;
  /** performance.now() of the newest receipt. */
  lastReceiptAt = 0;
  private closed = false;

  constructor(
    private readonly options: {
      readonly url: string;
      readonly body: string;
      /** The bearer token of each user of the pool. */
      readonly tokens: readonly string[];
    },
  ) {}

  get size(): number {
    return this.subscriptions.length;
  }

  /** Subscriptions whose stream is still open. */
  get open(): number {
    return this.subscriptions.filter((s) => !s.ended).length;
  }

  /**
   * Opens `count` subscriptions, `batch` at a time (each batch waits for its 200s), users
   * assigned round-robin. Resolves with how many were established.
   */
  async openAll(count: number, batch: number): Promise<OpenFigures> {
    const started = performance.now();
    const latencies: number[] = [];
    let refused = 0;
    let refusalSample: string | undefined;
    for (let from = 0; from < count && !this.closed; from += batch) {
      const results = await Promise.all(
        Array.from({ length: Math.min(batch, count - from) }, (_, i) =>
          this.openOne(from + i, (from + i) % this.options.tokens.length),
        ),
      );
      for (const result of results) {
        if (typeof result === 'number') latencies.push(result);
        else {
          refused++;
          refusalSample ??= result;
        }
      }
    }
    latencies.sort((a, b) => a - b);
    const at = (q: number) =>
      latencies.length
        ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!
        : 0;
    return {
      opened: latencies.length,
      refused,
      ...(refusalSample ? { refusalSample } : {}),
      seconds: Math.round(performance.now() - started) / 1000,
      latencyMs: {
        p50: Math.round(at(0.5)),
        p99: Math.round(at(0.99)),
        max: Math.round(latencies[latencies.length - 1] ?? 0),
      },
    };
  }

  /** One subscription: resolves its time to 200 (ms), or why it was not established. */
  private openOne(index: number, user: number): Promise<number | string> {
    const sub: Subscription = {
      index,
      user,
      request: undefined,
      response: undefined,
      times: new Float64Array(256).fill(-1),
      duplicates: 0,
      errors: 0,
      ended: false,
      endReason: undefined,
    };
    const started = performance.now();
    return new Promise((resolve) => {
      let settled = false;
      const settle = (value: number | string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        settle(`no answer within ${OPEN_TIMEOUT_MS / 1000} s`);
        req.destroy();
      }, OPEN_TIMEOUT_MS);
      const req = request(this.options.url, {
        method: 'POST',
        agent: this.agent,
        headers: {
          // A JSON content-type passes the router's CSRF prevention (http/csrf.ts).
          'content-type': 'application/json',
          // graphql-sse compares it exactly: 'text/event-stream' and nothing else.
          accept: 'text/event-stream',
          authorization: `Bearer ${this.options.tokens[user]}`,
          'content-length': Buffer.byteLength(this.options.body),
        },
      });
      sub.request = req;
      req.once('error', (error) => {
        if (!settled) settle(`transport: ${error.message}`);
        else if (!sub.ended && !this.closed) {
          sub.ended = true;
          sub.errors++;
          sub.endReason ??= `transport: ${error.message}`;
        }
      });
      req.once('response', (response) => {
        sub.response = response;
        if (response.statusCode !== 200) {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.once('end', () => settle(`${response.statusCode} ${text.slice(0, 300)}`));
          response.once('error', () => settle(`${response.statusCode} (body unreadable)`));
          return;
        }
        this.subscriptions.push(sub);
        settle(performance.now() - started);
        this.readRaw(sub, response);
      });
      req.end(this.options.body);
    });
  }

  /**
   * Reads one stream straight from its socket once the 200 has been parsed: node's HTTP client
   * costs several times the parsing below per chunk, and the harness shares the machine's two
   * cores with the router it measures (at 50,000 receipts/s it took a quarter of them). The
   * router writes whole SSE messages per HTTP chunk (sseDelivery.ts), so the chunked framing
   * (`\r\n<hex size>\r\n`) only ever precedes a block and is dropped there ({@link block}).
   */
  private readRaw(sub: Subscription, response: IncomingMessage): void {
    const socket = response.socket;
    socket.removeAllListeners('data');
    socket.removeAllListeners('end');
    socket.setEncoding('utf8');
    let buffer = '';
    socket.on('data', (chunk: string) => {
      const now = performance.now();
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        this.block(sub, stripChunkHeader(buffer.slice(0, end)), now);
        buffer = buffer.slice(end + 2);
      }
    });
    const ended = (why: string) => {
      if (sub.ended || this.closed) return;
      sub.ended = true;
      sub.endReason ??= why;
    };
    socket.once('end', () => ended('the router ended the stream'));
    socket.once('close', () => ended('the connection closed'));
    socket.resume();
  }

  /** One SSE block (`id:`/`event:`/`data:` lines). */
  private block(sub: Subscription, block: string, now: number): void {
    if (block.startsWith(':')) return; // keep-alive comment
    // The common case, kept cheap (the harness shares the machine with the router): an event
    // another subscriber already received, without errors — only its `id:` line is read.
    if (block.startsWith('id: ')) {
      const index = this.eventIndex.get(block.slice(4, block.indexOf('\n')));
      if (index !== undefined && !block.includes('"errors":[')) {
        this.receipt(sub, index, now);
        return;
      }
    }
    let id: string | undefined;
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (event === 'complete') {
      sub.ended = true;
      sub.endReason ??= 'completed by the router';
      return;
    }
    if (event !== 'next') return;
    if (data.includes('"errors":[')) {
      sub.errors++;
      this.errorSample ??= data.slice(0, 300);
      // A result with errors and no event id ends the stream (SLOW_CONSUMER, overloaded, …).
      if (id === undefined) sub.endReason ??= data.slice(0, 300);
      if (id === undefined) return;
    }
    if (id === undefined) {
      sub.errors++;
      this.errorSample ??= `an event without an id: ${data.slice(0, 300)}`;
      return;
    }
    let index = this.eventIndex.get(id);
    if (index === undefined) {
      index = this.events.length;
      this.eventIndex.set(id, index);
      this.events.push(describe(id, data));
    }
    this.receipt(sub, index, now);
  }

  private receipt(sub: Subscription, index: number, now: number): void {
    if (index >= sub.times.length) {
      const grown = new Float64Array(Math.max(index + 1, sub.times.length * 2)).fill(-1);
      grown.set(sub.times);
      sub.times = grown;
    }
    if (sub.times[index]! >= 0) sub.duplicates++;
    else sub.times[index] = now;
    this.receipts++;
    this.lastReceiptAt = now;
  }

  /**
   * Forgets every event received so far (the delivery warm-up's): the window's events are
   * indexed from 0. An event still on its way is then counted as one that matched no write.
   */
  forgetEvents(): void {
    this.events.length = 0;
    this.eventIndex.clear();
    for (const sub of this.subscriptions) {
      sub.times = new Float64Array(sub.times.length).fill(-1);
      sub.duplicates = 0;
    }
  }

  /** Receipt time (performance.now()) of event `index` by every subscriber (-1: not received). */
  receiptTimes(index: number): number[] {
    return this.subscriptions.map((s) => (index < s.times.length ? s.times[index]! : -1));
  }

  /** Per-subscriber figures for events whose indexes are in `counted`. */
  perSubscriber(counted: ReadonlySet<number>): {
    received: number;
    duplicates: number;
    errors: number;
    ended: number;
    endSample?: string;
  }[] {
    return this.subscriptions.map((s) => {
      let received = 0;
      for (const index of counted) if (index < s.times.length && s.times[index]! >= 0) received++;
      return {
        received,
        duplicates: s.duplicates,
        errors: s.errors,
        ended: s.ended ? 1 : 0,
        ...(s.endReason ? { endSample: s.endReason } : {}),
      };
    });
  }

  /** Number of subscriptions per user (for the report). */
  usersInUse(): number {
    return new Set(this.subscriptions.map((s) => s.user)).size;
  }

  /** Ends every stream (client side) and frees the sockets. */
  close(): void {
    this.closed = true;
    for (const sub of this.subscriptions) {
      sub.response?.destroy();
      sub.request?.destroy();
    }
    this.agent.destroy();
  }
}

/** The fields the scenario reads from an event's data (parsed once per event). */
function describe(id: string, data: string): EventInfo {
  try {
    const parsed = JSON.parse(data) as {
      data?: {
        robotChanged?: {
          kind?: string;
          robot?: {
            id?: string;
            batteryPercent?: number | null;
            operator?: { displayName?: string; activeSessionCount?: number } | null;
          };
        };
      };
    };
    const event = parsed.data?.robotChanged;
    const operator = event?.robot?.operator;
    return {
      id,
      robotId: event?.robot?.id,
      kind: event?.kind,
      battery: event?.robot?.batteryPercent,
      crossSubgraph:
        typeof operator?.displayName === 'string' &&
        typeof operator.activeSessionCount === 'number',
    };
  } catch {
    return { id, robotId: undefined, kind: undefined, battery: undefined, crossSubgraph: false };
  }
}

/** A block without the HTTP chunk framing before it (`\r\n` ending the last chunk, the size). */
function stripChunkHeader(block: string): string {
  let at = block.startsWith('\r\n') ? 2 : 0;
  let i = at;
  while (i < block.length && /[0-9a-fA-F]/.test(block[i]!)) i++;
  if (i > at && block.startsWith('\r\n', i)) at = i + 2;
  return at === 0 ? block : block.slice(at);
}
