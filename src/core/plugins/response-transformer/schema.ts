// response-transformer: remove, rename, replace, add and append response headers and JSON body fields.
import type { Field } from '../../schema/schema.js';
import { stringArray, type PluginSchema } from '../plugin-schema.js';

const colonPair: Field = {
  type: 'string',
  match: /^[^:]+:.*$/,
  match_err: "invalid value: expected 'name:value'",
};
const names = (): Field => ({ ...stringArray([]), required: true });
const pairs = (): Field => ({ ...stringArray([], colonPair), required: true });
const jsonTypes = (): Field => ({
  ...stringArray([], { type: 'string', one_of: ['boolean', 'number', 'string'] }),
  required: true,
});

export const schema: PluginSchema = {
  name: 'response-transformer',
  config: {
    remove: { type: 'record', required: true, fields: { json: names(), headers: names() } },
    rename: { type: 'record', required: true, fields: { json: pairs(), headers: pairs() } },
    replace: {
      type: 'record',
      required: true,
      fields: { json: pairs(), json_types: jsonTypes(), headers: pairs() },
    },
    add: {
      type: 'record',
      required: true,
      fields: { json: pairs(), json_types: jsonTypes(), headers: pairs() },
    },
    append: {
      type: 'record',
      required: true,
      fields: { json: pairs(), json_types: jsonTypes(), headers: pairs() },
    },
  },
};
