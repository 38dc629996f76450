// Every failure of an API call becomes one `ApiError`, whatever went wrong: the server's error
// shape `{"error": {"code", "message", "fields"?}}`, a body that is not that shape (a proxy's
// HTML page, an empty 404), or no answer at all.

import type { ErrorBody, FieldProblem } from './types';

export class ApiError extends Error {
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  /** The server's stable code (`validation_failed`, `username_taken`…), or one of ours: `network`, `http_<status>`. */
  readonly code: string;
  readonly fields: FieldProblem[];
  /** Seconds to wait, from `Retry-After` on a 429. */
  readonly retryAfter: number | null;

  constructor(status: number, code: string, message: string, fields: FieldProblem[] = [], retryAfter: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.retryAfter = retryAfter;
  }

  /** The message for a field, if the server named that field. */
  field(name: string): string | undefined {
    return this.fields.find((f) => f.field === name)?.message;
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const error = (value as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, fields } = error as Record<string, unknown>;
  return (
    typeof code === 'string' &&
    typeof message === 'string' &&
    (fields === undefined ||
      (Array.isArray(fields) &&
        fields.every(
          (f) => typeof f === 'object' && f !== null && typeof f.field === 'string' && typeof f.message === 'string',
        )))
  );
}

/** What to say when the body does not say it. */
function fallbackMessage(status: number, retryAfter: number | null): string {
  switch (status) {
    case 401:
      return 'Please log in again.';
    case 403:
      return 'You are not allowed to do that.';
    case 404:
      return 'Not found.';
    case 413:
      return 'That file is too large.';
    case 415:
      return 'That file is not a PNG, JPEG or WebP image.';
    case 429:
      return retryAfter ? `Too many attempts. Try again in ${formatWait(retryAfter)}.` : 'Too many attempts. Try again later.';
    default:
      return status >= 500 ? 'Something went wrong on our side. Please try again.' : `The request failed (HTTP ${status}).`;
  }
}

export function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

function parseRetryAfter(header: string | null): number | null {
  if (!header) return null;
  const secs = Number(header);
  return Number.isFinite(secs) && secs >= 0 ? Math.ceil(secs) : null;
}

/** Turns a non-2xx response into an `ApiError`. Reads the body. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
  let body: unknown = undefined;
  try {
    const text = await response.text();
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (isErrorBody(body)) {
    const { code, message, fields = [] } = body.error;
    // A 429's own message names the wait already; keep the server's words.
    return new ApiError(response.status, code, sentence(message), fields, retryAfter);
  }
  return new ApiError(response.status, `http_${response.status}`, fallbackMessage(response.status, retryAfter), [], retryAfter);
}

export function networkError(cause: unknown): ApiError {
  const error = new ApiError(0, 'network', 'Could not reach Showrunner. Check your connection and try again.');
  (error as { cause?: unknown }).cause = cause;
  return error;
}

/** "must be 4–20 characters long" → "Must be 4–20 characters long." */
export function sentence(message: string): string {
  const trimmed = message.trim();
  if (!trimmed) return trimmed;
  const first = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(first) ? first : `${first}.`;
}

/**
 * Splits an error between the inputs a form shows and the form as a whole.
 *
 * `shown` maps the server's field names to the form's input names (`{current_password:
 * 'current'}`), or lists the names that are the same; a field mapped to `''` is shown as the
 * form's error, in its own words (a mailed link's `token`). Problems with a field the form does
 * not know go into `form` too, with the field named, so nothing is lost.
 */
export function formErrors(
  error: unknown,
  shown: readonly string[] | Record<string, string>,
): { fields: Record<string, string>; form: string | null } {
  const mapping: Record<string, string> = Array.isArray(shown)
    ? Object.fromEntries(shown.map((name) => [name, name]))
    : (shown as Record<string, string>);
  if (!(error instanceof ApiError)) {
    return { fields: {}, form: error instanceof Error ? error.message : 'Something went wrong. Please try again.' };
  }
  const fields: Record<string, string> = {};
  const stray: string[] = [];
  for (const problem of error.fields) {
    const input = mapping[problem.field];
    if (input === '') {
      // Mapped to the form itself: the message reads on its own ("this link is invalid…").
      stray.push(problem.message.trim());
    } else if (input !== undefined) {
      // The first problem per input is the one to fix first.
      fields[input] ??= problem.code === 'taken' ? `That ${humanField(problem.field).toLowerCase()} is already taken.` : sentence(problem.message);
    } else {
      stray.push(`${humanField(problem.field)}: ${problem.message.trim()}`);
    }
  }
  let form: string | null = null;
  if (stray.length > 0) form = stray.map(sentence).join(' ');
  else if (Object.keys(fields).length === 0) form = error.message;
  return { fields, form };
}

function humanField(field: string): string {
  const words = field.replace(/_/g, ' ');
  return words[0]!.toUpperCase() + words.slice(1);
}
