// StoreError: Kong's DAO errors ({code, name, message, fields}) that the Admin API renders as 400/404/409.
import { ExitCode, HybridError } from '../errors.js';
import { flattenErrors, type ErrorTree } from '../schema/schema.js';

/** Kong's DAO error codes, as they appear in Admin API error bodies. */
export const StoreErrorCode = {
  INVALID_PRIMARY_KEY: 1,
  SCHEMA_VIOLATION: 2,
  PRIMARY_KEY_VIOLATION: 3,
  FOREIGN_KEY_VIOLATION: 4,
  UNIQUE_VIOLATION: 5,
  NOT_FOUND: 6,
  INVALID_OFFSET: 7,
  DATABASE_ERROR: 8,
  INVALID_SIZE: 9,
  INVALID_UNIQUE: 10,
  INVALID_OPTIONS: 11,
  OPERATION_UNSUPPORTED: 12,
  INVALID_FILTER: 13,
} as const;

export type StoreErrorCodeValue = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

const NAMES: Record<StoreErrorCodeValue, string> = {
  1: 'invalid primary key',
  2: 'schema violation',
  3: 'primary key violation',
  4: 'foreign key violation',
  5: 'unique constraint violation',
  6: 'not found',
  7: 'invalid offset',
  8: 'database error',
  9: 'invalid size',
  10: 'invalid unique',
  11: 'invalid options',
  12: 'operation unsupported',
  13: 'invalid filter',
};

/** Kong's Admin API status for each DAO error code. */
const HTTP_STATUS: Record<StoreErrorCodeValue, number> = {
  1: 400,
  2: 400,
  3: 400,
  4: 400,
  5: 409,
  6: 404,
  7: 400,
  8: 500,
  9: 400,
  10: 400,
  11: 400,
  12: 405,
  13: 400,
};

/** The JSON body Kong's Admin API answers with. */
export interface StoreErrorBody {
  code: number;
  name: string;
  message: string;
  fields?: Record<string, unknown>;
}

export class StoreError extends HybridError {
  /** Kong's numeric DAO error code (StoreErrorCode). */
  readonly storeCode: StoreErrorCodeValue;
  /** Kong's error name, e.g. "schema violation". */
  readonly storeName: string;
  readonly fields?: Record<string, unknown>;
  /** HTTP status Kong's Admin API uses for this error. */
  readonly httpStatus: number;

  constructor(code: StoreErrorCodeValue, message: string, fields?: Record<string, unknown>, cause?: unknown) {
    super(NAMES[code].replace(/ /g, '_'), message, {
      cause,
      exitCode: code === StoreErrorCode.DATABASE_ERROR ? ExitCode.environment : ExitCode.invalid,
    });
    this.storeCode = code;
    this.storeName = NAMES[code];
    this.fields = fields;
    this.httpStatus = HTTP_STATUS[code];
  }

  toBody(): StoreErrorBody {
    return {
      code: this.storeCode,
      name: this.storeName,
      message: this.message,
      ...(this.fields ? { fields: this.fields } : {}),
    };
  }

  toJSON(): StoreErrorBody {
    return this.toBody();
  }
}

/** Kong renders keys as `{name="foo",route=null}`. */
export function formatKey(values: Record<string, unknown>): string {
  const parts = Object.keys(values)
    .sort()
    .map((k) => {
      const v = values[k];
      if (v === null || v === undefined) return `${k}=null`;
      if (typeof v === 'object' && 'id' in (v as object)) return `${k}={id="${(v as { id: string }).id}"}`;
      return typeof v === 'string' ? `${k}="${v}"` : `${k}=${String(v)}`;
    });
  return `{${parts.join(',')}}`;
}

export function schemaViolation(errors: ErrorTree): StoreError {
  const flat = flattenErrors(errors);
  const parts = flat.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message));
  const message =
    parts.length === 1
      ? `schema violation (${parts[0]})`
      : `${parts.length} schema violations (${parts.join('; ')})`;
  return new StoreError(StoreErrorCode.SCHEMA_VIOLATION, message, errors as Record<string, unknown>);
}

export function uniqueViolation(values: Record<string, unknown>): StoreError {
  return new StoreError(
    StoreErrorCode.UNIQUE_VIOLATION,
    `UNIQUE violation detected on '${formatKey(values)}'`,
    values,
  );
}

export function primaryKeyViolation(id: string): StoreError {
  return new StoreError(StoreErrorCode.PRIMARY_KEY_VIOLATION, `primary key violation on key '{id="${id}"}'`, {
    id,
  });
}

export function missingForeign(field: string, reference: string, id: string): StoreError {
  return new StoreError(
    StoreErrorCode.FOREIGN_KEY_VIOLATION,
    `the foreign key '{id="${id}"}' does not reference an existing '${reference}' entity.`,
    { [field]: { id } },
  );
}

export function referencedBy(child: string, parent: string): StoreError {
  return new StoreError(
    StoreErrorCode.FOREIGN_KEY_VIOLATION,
    `an existing '${child}' entity references this '${parent}' entity`,
    { '@referenced_by': child },
  );
}

export function notFound(key: Record<string, unknown>): StoreError {
  return new StoreError(
    StoreErrorCode.NOT_FOUND,
    `could not find the entity with primary key '${formatKey(key)}'`,
    key,
  );
}

export function invalidOffset(offset: string): StoreError {
  return new StoreError(
    StoreErrorCode.INVALID_OFFSET,
    `'${offset}' is not a valid offset: bad base64 encoding`,
  );
}

export function invalidSize(): StoreError {
  return new StoreError(StoreErrorCode.INVALID_SIZE, 'size must be an integer between 1 and 1000');
}
