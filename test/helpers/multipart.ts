// Multipart forms for proxy tests, encoded and decoded by Node's own fetch implementation (not by the code under test).
import { createHash } from 'node:crypto';
import { startUpstream, type Upstream } from './proxy.js';

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** A form field as the upstream read it: text, or a file with its name, type and bytes (hex). */
export type ReadField = [name: string, value: string | { filename: string; type: string; hex: string }];

/** What the form upstream answers: the fields it parsed, or why it could not. */
export interface FormEcho {
  contentType: string;
  contentLength: string | undefined;
  bytes: number;
  /** Of the body as received: equal to the sent body's when the proxy left it as it was. */
  sha256: string;
  fields: ReadField[] | null;
  error?: string;
}

/** Encodes a FormData as a browser would: the body and its Content-Type (with the boundary). */
export async function encodeForm(form: FormData): Promise<{ body: Buffer; contentType: string }> {
  const response = new Response(form);
  return {
    body: Buffer.from(await response.arrayBuffer()),
    contentType: response.headers.get('content-type')!,
  };
}

/** An upstream that parses the multipart body it receives and answers 200 with a FormEcho. */
export function startFormUpstream(): Promise<Upstream> {
  return startUpstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks);
        const contentType = req.headers['content-type'] ?? '';
        const echo: FormEcho = {
          contentType,
          contentLength: req.headers['content-length'],
          bytes: raw.length,
          sha256: sha256(raw),
          fields: null,
        };
        try {
          const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
          const fields: ReadField[] = [];
          for (const [name, value] of form) {
            if (typeof value === 'string') fields.push([name, value]);
            else {
              const hex = Buffer.from(await value.arrayBuffer()).toString('hex');
              fields.push([name, { filename: value.name, type: value.type, hex }]);
            }
          }
          echo.fields = fields;
        } catch (err) {
          echo.error = (err as Error).message;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(echo));
      })();
    });
  });
}
