// Query strings and form-urlencoded bodies read and written the way Kong's ngx.decode_args / encode_args do.

/** A bare name (`?flag`) is `true`; a name given several times holds a list. */
export type ArgValue = string | true | (string | true)[];
/** Arguments by name, in the order they first appeared. */
export type Args = Map<string, ArgValue>;

function unescape(text: string): string {
  const spaced = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // A stray `%` is kept as it is, as nginx does, rather than failing the request.
    return spaced;
  }
}

/** Percent-encodes everything but letters, digits and `-._~` (ngx.escape_uri for arguments). */
export function escapeArg(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function decodeArgs(text: string): Args {
  const args: Args = new Map();
  for (const piece of text.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const name = unescape(eq === -1 ? piece : piece.slice(0, eq));
    if (name === '') continue;
    const value: string | true = eq === -1 ? true : unescape(piece.slice(eq + 1));
    const seen = args.get(name);
    if (seen === undefined) args.set(name, value);
    else args.set(name, Array.isArray(seen) ? [...seen, value] : [seen, value]);
  }
  return args;
}

/**
 * Writes arguments back. `sorted` orders names alphabetically, as kong.service.request.set_query does;
 * a list's values keep their order.
 */
export function encodeArgs(args: Args, sorted: boolean): string {
  const names = [...args.keys()];
  if (sorted) names.sort();
  const parts: string[] = [];
  for (const name of names) {
    const value = args.get(name)!;
    for (const one of Array.isArray(value) ? value : [value])
      parts.push(one === true ? escapeArg(name) : `${escapeArg(name)}=${escapeArg(one)}`);
  }
  return parts.join('&');
}
