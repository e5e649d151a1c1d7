// Admin API access log lines in nginx's "combined" format, the format of Kong's admin_access.log.

export interface AccessEntry {
  remoteAddress: string;
  time: Date;
  method: string;
  /** The request target as received (path and query). */
  url: string;
  httpVersion: string;
  status: number;
  bytes: number;
  referer?: string;
  userAgent?: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** nginx's `$time_local`, in UTC: `26/Nov/2026:09:05:01 +0000`. */
export function nginxTime(time: Date): string {
  return (
    `${pad(time.getUTCDate())}/${MONTHS[time.getUTCMonth()]}/${time.getUTCFullYear()}:` +
    `${pad(time.getUTCHours())}:${pad(time.getUTCMinutes())}:${pad(time.getUTCSeconds())} +0000`
  );
}

/** Quotes and control characters are escaped so a request cannot forge log lines. */
function quoted(value: string | undefined): string {
  if (!value) return '"-"';
  // eslint-disable-next-line no-control-regex -- matching control characters is the point here
  return `"${value.replace(/[\\"\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}"`;
}

/** `127.0.0.1 - - [26/Nov/2026:09:05:01 +0000] "GET /services HTTP/1.1" 200 17 "-" "curl/8.5.0"` */
export function formatAccessLine(entry: AccessEntry): string {
  const request = quoted(`${entry.method} ${entry.url} HTTP/${entry.httpVersion}`);
  return (
    `${entry.remoteAddress || '-'} - - [${nginxTime(entry.time)}] ${request} ${entry.status} ${entry.bytes} ` +
    `${quoted(entry.referer)} ${quoted(entry.userAgent)}`
  );
}
