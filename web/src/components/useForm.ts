// The state every form has: values, errors per input and for the whole form, busy while
// submitting. Errors come from the local checks first, then from the API's error shape.

import type { TargetedEvent } from 'preact';
import { useState } from 'preact/hooks';
import { formErrors } from '../api/errors';
import { useFormFocus } from './Form';

export function useForm<T extends Record<string, string>>(
  initial: T,
  /** The server's field names this form shows next to an input (see `formErrors`). */
  shown: readonly string[] | Record<string, string>,
) {
  const [values, setValues] = useState<T>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const focus = useFormFocus();

  function set(name: keyof T & string, value: string) {
    setValues((v) => ({ ...v, [name]: value }));
    // Typing in an input answers its error; the others stay until the next submit.
    setErrors((e) => {
      if (!(name in e)) return e;
      const { [name]: _, ...rest } = e;
      return rest;
    });
  }

  return {
    values,
    errors,
    formError,
    busy,
    ref: focus.ref,
    set,
    setValues,
    setFormError,
    /** Props for a `TextField` bound to `name`. */
    field: (name: keyof T & string) => ({
      name,
      value: values[name],
      error: errors[name],
      onValue: (value: string) => set(name, value),
    }),
    /** An `onSubmit` handler: local checks, then `action`; API errors land next to their inputs. */
    onSubmit:
      (validate: (values: T) => Record<string, string>, action: (values: T) => Promise<void>) =>
      async (event: TargetedEvent<HTMLFormElement, Event>) => {
        event.preventDefault();
        if (busy) return;
        setFormError(null);
        const local = validate(values);
        if (Object.keys(local).length > 0) {
          setErrors(local);
          focus.failed();
          return;
        }
        setErrors({});
        setBusy(true);
        try {
          await action(values);
        } catch (error) {
          const split = formErrors(error, shown);
          setErrors(split.fields);
          setFormError(split.form);
          if (Object.keys(split.fields).length > 0) focus.failed();
        } finally {
          setBusy(false);
        }
      },
  };
}
