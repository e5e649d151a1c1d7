// request-transformer: remove, rename, replace, add and append headers, query and body before proxying.
import type { Field } from '../../schema/schema.js';
import { stringArray, type PluginSchema } from '../plugin-schema.js';

const colonPair: Field = {
  type: 'string',
  match: /^[^:]+:.*$/,
  match_err: "invalid value: expected 'name:value'",
};
const names = (): Field => ({ ...stringArray([]), required: true });
const pairs = (): Field => ({ ...stringArray([], colonPair), required: true });

export const schema: PluginSchema = {
  name: 'request-transformer',
  config: {
    http_method: {
      type: 'string',
      match: /^[A-Z]+$/,
      match_err: 'invalid value: method names must be uppercase letters',
    },
    remove: {
      type: 'record',
      required: true,
      fields: { body: names(), headers: names(), querystring: names() },
    },
    rename: {
      type: 'record',
      required: true,
      fields: { body: pairs(), headers: pairs(), querystring: pairs() },
    },
    replace: {
      type: 'record',
      required: true,
      fields: { body: pairs(), headers: pairs(), querystring: pairs(), uri: { type: 'string' } },
    },
    add: {
      type: 'record',
      required: true,
      fields: { body: pairs(), headers: pairs(), querystring: pairs() },
    },
    append: {
      type: 'record',
      required: true,
      fields: { body: pairs(), headers: pairs(), querystring: pairs() },
    },
  },
};
