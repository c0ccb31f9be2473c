import { request } from 'undici';
import type { ServerSpec } from './servers.ts';

/** Headers node:http writes by itself, or that describe the connection rather than the response. */
const HOP = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

export interface Captured {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** One real response of the subject, to be replayed byte for byte by a bare node:http server. */
export async function capture(url: string, headers: Record<string, string>, expectStatus: number): Promise<Captured> {
  const res = await request(url, { headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== expectStatus) throw new Error(`GET ${url} answered ${res.statusCode}, expected ${expectStatus}: ${body.toString('utf8').slice(0, 300)}`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (v !== undefined && !HOP.has(k)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return { status: res.statusCode, headers: out, body };
}

export function bareSpec(c: Captured): ServerSpec {
  return { kind: 'bare', status: c.status, headers: c.headers, bodyBase64: c.body.toString('base64') };
}
