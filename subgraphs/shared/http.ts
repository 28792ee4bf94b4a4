/**
 * The small node:http pieces the router and the subgraph servers share (neither uses a web
 * framework: each serves four routes and hands GraphQL to Apollo Server directly).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap } from '@apollo/server';

/** Largest request body accepted: a reportTelemetry call of 10,000 samples is ~1.5 MB of JSON. */
export const MAX_BODY_BYTES = 4_000_000;

/** The request's body as text, or null when it exceeds {@link MAX_BODY_BYTES}. */
export async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Node's request headers as the HeaderMap Apollo Server takes (repeated values joined). */
export function headerMapOf(req: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

export function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(payload));
}

/** A client that hung up mid-request: not a server error, nothing to answer. */
export function isClientHangUp(error: unknown, req: IncomingMessage): boolean {
  return (error as NodeJS.ErrnoException).code === 'ECONNRESET' || req.destroyed;
}
