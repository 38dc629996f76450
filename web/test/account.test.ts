import { describe, expect, it } from 'vitest';
import { collectErrors, formatBytes, passwordRules, validateEmail, validateImage, validatePassword, validateUsername } from '../src/domain/account';

describe('validateUsername', () => {
  it('accepts what the server accepts', () => {
    for (const ok of ['abcd', 'Ab.c_9', 'a_b.c.d.e.f.g.h.i.jk']) expect(validateUsername(ok)).toBeNull();
  });
  it('refuses bad lengths and characters', () => {
    expect(validateUsername('')).toBe('Choose a username.');
    expect(validateUsername('abc')).toMatch(/4–20/);
    expect(validateUsername('a'.repeat(21))).toMatch(/4–20/);
    expect(validateUsername('with space')).toMatch(/only letters/);
    expect(validateUsername('émile')).toMatch(/only letters/);
  });
});

describe('validateEmail', () => {
  it('is loose but catches the obvious', () => {
    expect(validateEmail(' anna@example.com ')).toBeNull();
    expect(validateEmail('')).toMatch(/Enter/);
    expect(validateEmail('anna')).toMatch(/valid email/);
    expect(validateEmail('anna@localhost')).toMatch(/valid email/);
  });
});

describe('the password policy', () => {
  it('lists each rule with whether it is met', () => {
    const rules = passwordRules('abcdefgh');
    expect(rules.map((r) => [r.id, r.met])).toEqual([
      ['length', true],
      ['upper', false],
      ['lower', true],
      ['digit', false],
      ['symbol', false],
    ]);
  });

  it('counts as a symbol what the server counts', () => {
    expect(passwordRules('Sup3r#Secret').every((r) => r.met)).toBe(true);
    expect(passwordRules('Sup3r Secret').find((r) => r.id === 'symbol')!.met).toBe(false);
    expect(passwordRules('Sup3r€Secret').find((r) => r.id === 'symbol')!.met).toBe(true);
    expect(passwordRules('Sup3rÉSecret').find((r) => r.id === 'symbol')!.met).toBe(false);
  });

  it('explains what is missing, like the server', () => {
    expect(validatePassword('')).toBe('Choose a password.');
    expect(validatePassword('Ab1#')).toBe('Must be at least 8 characters.');
    expect(validatePassword('abcdefgh')).toBe('Must contain an upper-case letter, a digit, a symbol.');
    expect(validatePassword('Sup3r#Secret')).toBeNull();
    expect(validatePassword('A1#a' + 'x'.repeat(253))).toMatch(/at most 256/);
  });
});

describe('validateImage', () => {
  it('takes PNG, JPEG and WebP within the limit', () => {
    expect(validateImage({ size: 1000, type: 'image/png' }, 1_000_000)).toBeNull();
    expect(validateImage({ size: 1000, type: '' }, 1_000_000)).toBeNull();
    expect(validateImage({ size: 1000, type: 'image/gif' }, 1_000_000)).toMatch(/PNG, JPEG or WebP/);
    expect(validateImage({ size: 1_000_001, type: 'image/jpeg' }, 1_000_000)).toBe('The image must be at most 1 MB.');
    expect(validateImage({ size: 0, type: 'image/webp' }, 1_000_000)).toMatch(/empty/);
  });
  it('formats sizes the way the server states its limits', () => {
    expect(formatBytes(5_000_000)).toBe('5 MB');
    expect(formatBytes(1_500_000)).toBe('1.5 MB');
    expect(formatBytes(2_048)).toBe('2 KB');
    expect(formatBytes(12)).toBe('12 bytes');
  });
});

describe('collectErrors', () => {
  it('keeps only the problems', () => {
    expect(collectErrors({ a: null, b: 'bad', c: undefined })).toEqual({ b: 'bad' });
  });
});
