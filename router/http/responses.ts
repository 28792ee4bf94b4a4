/** Answers the router gives itself, outside Apollo Server. */
import type { ServerResponse } from 'node:http';

/** A GraphQL-over-HTTP error response (no data: the request was refused before execution). */
export function sendErrors(
  res: ServerResponse,
  status: number,
  message: string,
  code: string,
): void {
  res.writeHead(status, { 'content-type': 'application/graphql-response+json; charset=utf-8' });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

/** JSON.parse, or undefined for text that is not JSON. */
export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
