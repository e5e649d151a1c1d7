// Lowercased header names, kept once made: plugins set the same few names on every request, and handing back
// the same string each time spares lowercasing it again and V8 hashing a fresh string for every header map
// it lands in.

/** Names kept at most; past this, names are lowercased each time (a plugin setting names it makes up). */
const LIMIT = 1024;
const lowered = new Map<string, string>();

/** `name` lowercased (HTTP header names are case-insensitive; the proxy's header maps use lowercase). */
export function lowerHeaderName(name: string): string {
  let lower = lowered.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowered.size < LIMIT) lowered.set(name, lower);
  }
  return lower;
}
