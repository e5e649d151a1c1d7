// Values with `$(…)` templates, as in Kong's request-transformer: `$(headers.x)`, `$(query_params["y"])`,
// `$(uri_captures.name)`, `$(uri_captures[1])`, alternatives with `or` and quoted defaults.
import type { RouteCaptures } from '../../proxy/types.js';
import type { ArgValue, Args } from './args.js';

/** What a template can read: the request as it stood when the plugin started. */
export interface TemplateEnvironment {
  /** Lowercased names. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  query: Args;
  captures: RouteCaptures | null;
}

export class TemplateError extends Error {
  constructor(template: string, reason: string) {
    super(`failed to render the template ${template}, error: ${reason}`);
    this.name = 'TemplateError';
  }
}

type Value = string | undefined;

function listText(value: string | string[] | ArgValue | undefined): Value {
  if (value === undefined) return undefined;
  if (value === true) return 'true';
  if (Array.isArray(value)) return value.map((v) => (v === true ? 'true' : v)).join(', ');
  return value;
}

function lookup(env: TemplateEnvironment, root: string, key: string | number): Value {
  if (root === 'headers') {
    // Kong's header table finds `x_api_key` as `x-api-key`, whatever its case.
    return listText(env.headers[String(key).toLowerCase().replace(/_/g, '-')]);
  }
  if (root === 'query_params') return listText(env.query.get(String(key)));
  if (typeof key === 'number') return key >= 1 ? env.captures?.unnamed[key - 1] : undefined;
  return env.captures?.named[key];
}

const TERM =
  /^\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(headers|query_params|uri_captures)(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(\d+))\s*\]))\s*/;

/** Evaluates `term or term …`, Lua style: the first term that has a value wins; none gives ''. */
function evaluate(expression: string, env: TemplateEnvironment, template: string): string {
  let rest = expression;
  let result: Value;
  for (;;) {
    const m = TERM.exec(rest);
    if (!m) throw new TemplateError(template, `unsupported expression '${expression}'`);
    if (result === undefined) {
      const literal = m[1] ?? m[2];
      if (literal !== undefined) result = literal.replace(/\\(.)/g, '$1');
      else {
        const key = m[4] ?? m[5] ?? m[6] ?? Number(m[7]);
        result = lookup(env, m[3]!, typeof key === 'string' ? key.replace(/\\(.)/g, '$1') : key);
      }
    }
    rest = rest.slice(m[0].length);
    if (rest === '') return result ?? '';
    const or = /^or\s+/.exec(rest);
    if (!or) throw new TemplateError(template, `unsupported expression '${expression}'`);
    rest = rest.slice(or[0].length);
  }
}

/** Index just past the `)` closing the `(` at `open`, skipping quoted text; -1 when unbalanced. */
function closingParen(text: string, open: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = open; i < text.length; i += 1) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i += 1;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth += 1;
    else if (c === ')' && (depth -= 1) === 0) return i + 1;
  }
  return -1;
}

/** Renders a config value; text without `$(` is returned as it is. */
export function renderTemplate(template: string, env: TemplateEnvironment): string {
  if (!template.includes('$(')) return template;
  let out = '';
  let from = 0;
  for (let at = template.indexOf('$(', from); at !== -1; at = template.indexOf('$(', from)) {
    const end = closingParen(template, at + 1);
    if (end === -1) throw new TemplateError(template, "unbalanced '$('");
    out += template.slice(from, at) + evaluate(template.slice(at + 2, end - 1), env, template);
    from = end;
  }
  return out + template.slice(from);
}
