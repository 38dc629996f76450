import { describe, expect, it } from 'vitest';
import { ApiError, errorFromResponse, formErrors, networkError, sentence } from '../src/api/errors';

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

describe('errorFromResponse', () => {
  it('keeps the code, message and fields of the API error shape', async () => {
    const error = await errorFromResponse(
      json(422, {
        error: {
          code: 'validation_failed',
          message: 'username: must be 4–20 characters long',
          fields: [{ field: 'username', code: 'length', message: 'must be 4–20 characters long' }],
        },
      }),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(422);
    expect(error.code).toBe('validation_failed');
    expect(error.field('username')).toBe('must be 4–20 characters long');
    expect(error.field('email')).toBeUndefined();
  });

  it('reads Retry-After on a 429', async () => {
    const error = await errorFromResponse(json(429, { error: { code: 'rate_limited', message: 'too many attempts; try again in 40 seconds' } }, { 'retry-after': '40' }));
    expect(error.retryAfter).toBe(40);
    expect(error.message).toBe('Too many attempts; try again in 40 seconds.');
  });

  it('says something useful when the body is not the error shape', async () => {
    const proxy = await errorFromResponse(new Response('<html>Bad gateway</html>', { status: 502 }));
    expect(proxy.code).toBe('http_502');
    expect(proxy.message).toMatch(/on our side/);

    const empty = await errorFromResponse(new Response(null, { status: 413 }));
    expect(empty.message).toBe('That file is too large.');

    const throttled = await errorFromResponse(new Response('', { status: 429, headers: { 'retry-after': '120' } }));
    expect(throttled.message).toBe('Too many attempts. Try again in 2 minutes.');

    const wrongShape = await errorFromResponse(json(400, { error: 'nope' }));
    expect(wrongShape.code).toBe('http_400');
  });

  it('turns a failed fetch into a network error', () => {
    const error = networkError(new TypeError('Failed to fetch'));
    expect(error.status).toBe(0);
    expect(error.code).toBe('network');
  });
});

describe('formErrors', () => {
  const validation = new ApiError(422, 'validation_failed', 'x', [
    { field: 'username', code: 'length', message: 'must be 4–20 characters long' },
    { field: 'username', code: 'characters', message: 'second problem' },
    { field: 'new_password', code: 'weak', message: 'must contain a digit' },
    { field: 'token', code: 'invalid', message: 'this link is invalid, expired or already used' },
  ]);

  it('puts each problem next to the input the form shows for it', () => {
    const { fields, form } = formErrors(validation, { username: 'username', new_password: 'next', token: '' });
    expect(fields).toEqual({ username: 'Must be 4–20 characters long.', next: 'Must contain a digit.' });
    expect(form).toBe('This link is invalid, expired or already used.');
  });

  it('names a field the form does not show, so nothing is lost', () => {
    const { fields, form } = formErrors(validation, ['username']);
    expect(Object.keys(fields)).toEqual(['username']);
    expect(form).toContain('New password: must contain a digit.');
    expect(form).toContain('Token: this link is invalid');
  });

  it('says which field is taken', () => {
    const taken = new ApiError(409, 'username_taken', 'this username is already taken', [{ field: 'username', code: 'taken', message: 'is already taken' }]);
    expect(formErrors(taken, ['username']).fields.username).toBe('That username is already taken.');
  });

  it('uses the message for the form when no field is named', () => {
    const error = new ApiError(401, 'invalid_credentials', 'Wrong password.');
    expect(formErrors(error, ['login'])).toEqual({ fields: {}, form: 'Wrong password.' });
    expect(formErrors(new Error('boom'), []).form).toBe('boom');
  });
});

describe('sentence', () => {
  it('capitalises and ends with a full stop once', () => {
    expect(sentence('must be short')).toBe('Must be short.');
    expect(sentence('Already fine.')).toBe('Already fine.');
    expect(sentence('  ')).toBe('');
  });
});
