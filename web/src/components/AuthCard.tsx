import type { ComponentChildren } from 'preact';

/** The centered card the sign-in pages share. */
export function AuthCard({ title, intro, children, testid }: { title: string; intro?: ComponentChildren; children: ComponentChildren; testid?: string }) {
  return (
    <div class="page page--auth" data-testid={testid}>
      <section class="auth-card" aria-labelledby="auth-title">
        <h1 id="auth-title" class="auth-card__title">
          {title}
        </h1>
        {intro && <p class="auth-card__intro">{intro}</p>}
        {children}
      </section>
    </div>
  );
}
