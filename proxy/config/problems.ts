// Config problems as operators read them: `path: message`, e.g.
// `clusters[1].endpoints[0].window: must be a positive integer` (SPEC §2 `--validate`).

import type { z } from 'zod';

export type ConfigPath = ReadonlyArray<PropertyKey>;

export interface Problem {
  path: ConfigPath;
  message: string;
}

/** `listeners[0].limits.window`; the whole document is `(root)`. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

export const formatProblem = (problem: Problem): string => `${formatPath(problem.path)}: ${problem.message}`;

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
};

const show = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * Messages for issues whose schema did not set its own (pass as `error` to safeParse). Returning
 * undefined keeps zod's text, which only happens for issue kinds the config schema does not produce.
 */
export const configErrorMap = (issue: z.core.$ZodRawIssue): string | undefined => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${EXPECTED[issue.expected] ?? issue.expected}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${show(issue.values[0])}`
        : `must be one of ${issue.values.map(show).join(', ')}`;
    case 'unrecognized_keys':
      return 'unknown key';
    case 'invalid_union':
      if (issue.discriminator !== undefined && 'options' in issue && Array.isArray(issue.options)) {
        return `must be one of ${issue.options.map(show).join(', ')}`;
      }
      return undefined;
    case 'too_small':
      if (issue.origin === 'array') return issue.minimum === 1 ? 'must not be empty' : `must have at least ${issue.minimum} items`;
      if (issue.origin === 'string') return issue.minimum === 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
      return issue.inclusive ? `must be at least ${issue.minimum}` : `must be greater than ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      if (issue.origin === 'array') return `must have at most ${issue.maximum} items`;
      return issue.inclusive ? `must be at most ${issue.maximum}` : `must be less than ${issue.maximum}`;
    default:
      return undefined;
  }
};

/** zod issues -> problems: one per unknown key, and a failed union explained by its closest branch. */
export function issuesToProblems(issues: readonly z.core.$ZodIssue[], base: ConfigPath = []): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...path, key], message: 'unknown key' });
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const branch = closestBranch(issue.errors);
      if (branch) out.push(...issuesToProblems(branch, path));
      else out.push({ path, message: issue.message });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

/**
 * The one branch that got past the type check (e.g. `tls: { ca: 1 }` is an object, so the object
 * branch's complaint about `ca` is the useful one, not "expected boolean"); undefined if not exactly one.
 */
function closestBranch(branches: readonly (readonly z.core.$ZodIssue[])[]): readonly z.core.$ZodIssue[] | undefined {
  const typeMatched = branches.filter(
    (branch) => !(branch.length === 1 && branch[0]!.code === 'invalid_type' && branch[0]!.path.length === 0),
  );
  return typeMatched.length === 1 ? typeMatched[0] : undefined;
}
