// A raw HTTP client for Admin API tests: any method, path bytes, headers and body, over a keep-alive agent.
import { Agent, request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  json: unknown;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export function httpClient(base: string, agent = new Agent({ keepAlive: true, maxSockets: 8 })) {
  const url = new URL(base);
  const send = (req: RawRequest): Promise<RawResponse> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...req.headers };
      if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
      const r = request(
        { host: url.hostname, port: url.port, method: req.method, path: req.path, headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text === '' ? undefined : JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
          res.on('error', reject);
        },
      );
      r.on('error', reject);
      r.end(req.body);
    });

  const withJson = (method: string, path: string, body?: unknown) =>
    send({
      method,
      path,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  return {
    send,
    get: (path: string) => send({ method: 'GET', path }),
    delete: (path: string) => send({ method: 'DELETE', path }),
    post: (path: string, body?: unknown) => withJson('POST', path, body),
    put: (path: string, body?: unknown) => withJson('PUT', path, body),
    patch: (path: string, body?: unknown) => withJson('PATCH', path, body),
    /** What `curl --data a=b --data c=d` sends: an urlencoded form. */
    form: (method: string, path: string, pairs: Array<[string, string]>) =>
      send({
        method,
        path,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'),
      }),
    /** Exactly what `curl -X METHOD url --data A --data B` sends: the arguments joined by '&', unencoded. */
    curl: (method: string, path: string, ...data: string[]) =>
      send({
        method,
        path,
        headers: data.length > 0 ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
        body: data.length > 0 ? data.join('&') : undefined,
      }),
    close: () => agent.destroy(),
  };
}

export type HttpClient = ReturnType<typeof httpClient>;
