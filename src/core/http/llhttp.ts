// Node's own llhttp binding (the parser behind its http module), for the proxy's HTTP/1.1 client and listener.
import { createRequire } from 'node:module';

/** One llhttp parser as `_http_common` exports it (no types are published for it). */
export interface Llhttp {
  initialize(type: number, resource: object, maxHeaderSize?: number, lenient?: number): void;
  /** Bytes parsed, or an Error with `code` (HPE_…) and `bytesParsed`. */
  execute(data: Buffer): number | Error;
  finish(): number | Error | undefined;
  close(): void;
  [callback: number]: unknown;
}

export interface LlhttpClass {
  new (): Llhttp;
  REQUEST: number;
  RESPONSE: number;
  kOnMessageBegin: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
}

const common = createRequire(import.meta.url)('_http_common') as {
  HTTPParser: LlhttpClass;
  methods: string[];
};

export const HTTPParser = common.HTTPParser;

/** Method names by the number llhttp reports for them. */
export const METHODS: readonly string[] = common.methods;

/**
 * What kOnHeadersComplete returns to stop parsing after this head: llhttp treats the message as bodyless and
 * upgraded, and execute() returns the offset just past the head (the rest of the data is not parsed).
 */
export const STOP_AFTER_HEAD = 2;

/** Frees a parser's native memory; only once no execute() is on the stack (as Node's own client does). */
export function closeParserLater(parser: Llhttp): void {
  setImmediate(() => parser.close());
}
