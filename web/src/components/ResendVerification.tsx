import { useState } from 'preact/hooks';
import { api } from '../api/client';
import { collectErrors, validateEmail } from '../domain/account';
import { FormError, SubmitButton, TextField } from './Form';
import { useForm } from './useForm';

/** "Verify first", with a way to get a new link mailed. */
export function ResendVerification({ email, message }: { email: string; message: string }) {
  const form = useForm({ email }, ['email']);
  const [sent, setSent] = useState<string | null>(null);
  const onSubmit = form.onSubmit(
    (v) => collectErrors({ email: validateEmail(v.email) }),
    async (v) => {
      await api.post('/api/auth/verify/resend', { email: v.email.trim() }, { auth: false });
      setSent(v.email.trim());
    },
  );
  return (
    <div class="notice notice--warning" data-testid="verify-first">
      <p role="status">{message}</p>
      {sent ? (
        <p class="notice__strong" role="status" data-testid="resend-sent">
          If an account uses {sent}, a new link is on its way.
        </p>
      ) : (
        <form ref={form.ref} onSubmit={onSubmit} noValidate class="inline-form">
          <FormError message={form.formError} />
          <TextField label="Email for a new link" type="email" autocomplete="email" {...form.field('email')} />
          <SubmitButton busy={form.busy} variant="secondary">
            Send a new link
          </SubmitButton>
        </form>
      )}
    </div>
  );
}
