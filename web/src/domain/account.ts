// The account rules the server enforces, checked here too so a form can say what is wrong before
// a round trip. The server stays the authority: its answer is shown whatever these say.

export const USERNAME_MIN = 4;
export const USERNAME_MAX = 20;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;
/** The server's limits, in bytes (decimal megabytes). */
export const AVATAR_MAX_BYTES = 1_000_000;
export const BANNER_MAX_BYTES = 5_000_000;
export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;

export function validateUsername(raw: string): string | null {
  if (raw.length === 0) return 'Choose a username.';
  const length = [...raw].length;
  if (length < USERNAME_MIN || length > USERNAME_MAX) {
    return `Must be ${USERNAME_MIN}–${USERNAME_MAX} characters long.`;
  }
  if (!/^[A-Za-z0-9._]+$/.test(raw)) return "May contain only letters, digits, '.' and '_'.";
  return null;
}

export function validateEmail(raw: string): string | null {
  const email = raw.trim();
  if (email.length === 0) return 'Enter your email address.';
  // Deliberately loose: one @ with something on both sides and a dot in the domain. The server
  // (and the mail that must arrive) decide the rest.
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return 'Enter a valid email address, like name@example.com.';
  return null;
}

export interface PasswordRule {
  id: 'length' | 'upper' | 'lower' | 'digit' | 'symbol';
  label: string;
  met: boolean;
}

/** The password policy, rule by rule, for a live checklist under the input. */
export function passwordRules(password: string): PasswordRule[] {
  const length = [...password].length;
  return [
    { id: 'length', label: `At least ${PASSWORD_MIN} characters`, met: length >= PASSWORD_MIN && length <= PASSWORD_MAX },
    { id: 'upper', label: 'An upper-case letter', met: /[A-Z]/.test(password) },
    { id: 'lower', label: 'A lower-case letter', met: /[a-z]/.test(password) },
    { id: 'digit', label: 'A digit', met: /[0-9]/.test(password) },
    // As the server counts it: anything that is neither a letter, a digit nor white space.
    { id: 'symbol', label: 'A symbol, such as # or !', met: /[^\p{L}\p{N}\s]/u.test(password) },
  ];
}

export function validatePassword(password: string): string | null {
  if (password.length === 0) return 'Choose a password.';
  const length = [...password].length;
  if (length < PASSWORD_MIN) return `Must be at least ${PASSWORD_MIN} characters.`;
  if (length > PASSWORD_MAX) return `Must be at most ${PASSWORD_MAX} characters.`;
  const missing = passwordRules(password)
    .filter((rule) => !rule.met && rule.id !== 'length')
    .map((rule) => rule.label.toLowerCase().replace(/, such as .*$/, ''));
  if (missing.length > 0) return `Must contain ${missing.join(', ')}.`;
  return null;
}

/** Checks an image before upload; the server checks the content again. */
export function validateImage(file: { size: number; type: string }, maxBytes: number): string | null {
  if (file.type && !(IMAGE_TYPES as readonly string[]).includes(file.type)) {
    return 'Choose a PNG, JPEG or WebP image.';
  }
  if (file.size > maxBytes) return `The image must be at most ${formatBytes(maxBytes)}.`;
  if (file.size === 0) return 'That file is empty.';
  return null;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1_000_000) return `${+(bytes / 1_000_000).toFixed(1)} MB`;
  if (bytes >= 1_000) return `${Math.round(bytes / 1_000)} KB`;
  return `${bytes} bytes`;
}

/** Drops the `undefined`/`null` entries of a field → message map: what a form shows. */
export function collectErrors(checks: Record<string, string | null | undefined>): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const [field, message] of Object.entries(checks)) if (message) errors[field] = message;
  return errors;
}
