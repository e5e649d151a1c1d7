// Declarative config errors: every problem with its path in the file, raised together.
import { InvalidError } from '../errors.js';

export interface DeclarativeProblem {
  /** Where in the file, e.g. `services[0].routes[1].paths[0]`. */
  path: string;
  message: string;
}

export class DeclarativeInvalidError extends InvalidError {
  readonly problems: DeclarativeProblem[];

  constructor(source: string, problems: DeclarativeProblem[]) {
    const n = problems.length;
    super(
      'declarative_invalid',
      `invalid declarative config ${source} (${n} error${n === 1 ? '' : 's'}):\n${problems
        .map((p) => `  - ${p.path ? `${p.path}: ` : ''}${p.message}`)
        .join('\n')}`,
      { hint: 'Nothing was imported. Fix every listed path, then run the command again.' },
    );
    this.problems = problems;
  }
}
