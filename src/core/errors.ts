// The one error hierarchy: every failure a user can cause carries a stable code, a hint and an exit code.

/** Exit codes, documented in the README. Core code never exits; commands map errors to these. */
export const ExitCode = {
  ok: 0,
  /** What was checked is invalid or unhealthy (check, verify-pki, cluster status, health). */
  invalid: 1,
  /** The command line itself is wrong: unknown flag, bad value, missing argument. */
  usage: 2,
  /** The environment refused: a file exists, cannot be read or written, a node already runs. */
  environment: 3,
  /** A bug: an error nobody anticipated. The stack is printed with --vv. */
  internal: 70,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface HybridErrorOptions {
  hint?: string;
  cause?: unknown;
  exitCode?: ExitCodeValue;
}

/** Base class: a user-facing failure with a stable machine-readable code. */
export class HybridError extends Error {
  readonly code: string;
  readonly hint?: string;
  readonly exitCode: ExitCodeValue;

  constructor(code: string, message: string, options: HybridErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.environment;
  }
}

/** The command line is wrong (exit 2). */
export class UsageError extends HybridError {
  constructor(message: string, options: Omit<HybridErrorOptions, 'exitCode'> & { code?: string } = {}) {
    super(options.code ?? 'usage', message, { ...options, exitCode: ExitCode.usage });
  }
}

/** A file could not be read, written, or would be overwritten (exit 3). */
export class FileError extends HybridError {
  readonly path: string;

  constructor(
    code: string,
    path: string,
    message: string,
    options: Omit<HybridErrorOptions, 'exitCode'> = {},
  ) {
    super(code, message, { ...options, exitCode: ExitCode.environment });
    this.path = path;
  }
}

/** What was checked is invalid (exit 1): configuration, certificates, cluster health. */
export class InvalidError extends HybridError {
  constructor(code: string, message: string, options: Omit<HybridErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...options, exitCode: ExitCode.invalid });
  }
}
