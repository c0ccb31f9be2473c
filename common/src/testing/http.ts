import { type IncomingMessage, createServer, request as httpRequest, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { request } from 'undici';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  json(): Record<string, unknown>;
}

/** One real HTTP request; a body that is not a string is sent as JSON. */
export async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await request(url, {
    method: method as 'GET',
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)])), body: text, json: () => JSON.parse(text) };
}

/**
 * A request whose body goes out in these chunks with no Content-Length (chunked transfer
 * coding), as a streaming client sends it, through node:http. Rejects if the connection fails
 * before the whole answer is in (a reset after it, while the rest of the body was still being
 * sent, is what a server that stops reading may do, and does not count).
 */
export function callChunked(method: string, url: string, chunks: Iterable<string | Buffer>, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let answer: IncomingMessage | undefined;
    const done = (res: IncomingMessage) => {
      const text = Buffer.concat(parts).toString('utf8');
      const h = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)]));
      resolve({ status: res.statusCode ?? 0, headers: h, body: text, json: () => JSON.parse(text) });
    };
    const req = httpRequest(url, { method, headers }, (res) => {
      answer = res;
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => done(res));
      res.on('error', failed);
    });
    const failed = (err: Error) => (answer?.complete ? done(answer) : reject(err));
    req.on('error', failed);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

/** Asserts an RFC 9457 problem response with this status and a detail matching `detail`. */
export function expectProblem(r: Reply, status: number, detail: RegExp): void {
  expect(r.status, r.body).to.equal(status);
  expect(r.headers['content-type']).to.match(/^application\/problem\+json/);
  expect(r.json()['detail']).to.match(detail);
}

export interface PortForApp {
  readonly url: string;
  /** Starts answering with the app, once it is built (it may need `url` for its links). */
  serve(listener: RequestListener): void;
  close(): Promise<void>;
}

/**
 * A real port on loopback, taken before the app exists, so the app can be configured with
 * its own public URL (feed links need it). `port` 0 picks a free one.
 */
export async function takePort(port = 0): Promise<PortForApp> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    serve: (listener) => { server.on('request', listener); },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
