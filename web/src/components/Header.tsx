import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api } from '../api/client';
import { useSession } from '../api/session';
import type { Me } from '../api/types';
import { loginUrl } from '../domain/navigation';
import { Avatar } from './Avatar';

export function Logo() {
  return (
    <svg viewBox="0 0 32 32" class="logo" aria-hidden="true" focusable="false">
      <rect x="2" y="6" width="28" height="20" rx="6" fill="var(--accent)" />
      <path d="M13 11.5v9l8-4.5z" fill="#fff" />
    </svg>
  );
}

function NavLink({ href, children }: { href: string; children: string }) {
  const { path } = useLocation();
  const current = path === href || (href !== '/' && path.startsWith(`${href}/`));
  return (
    <a href={href} class="nav__link" aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}

export function Header() {
  const session = useSession();
  const { url, path } = useLocation();
  const onAuthPage = ['/login', '/register', '/reset', '/verify'].includes(path);
  return (
    <header class="topbar">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <a href="/" class="brand" aria-label="Showrunner — home">
        <Logo />
        <span class="brand__name">Showrunner</span>
      </a>
      <nav class="nav" aria-label="Main">
        <NavLink href="/">Browse</NavLink>
        {session.status === 'signed-in' && <NavLink href="/following">Following</NavLink>}
        {session.status === 'signed-in' && <NavLink href="/manager">Manager</NavLink>}
        {session.status === 'signed-in' && <NavLink href="/health">Health</NavLink>}
      </nav>
      <div class="topbar__account">
        {session.status === 'unknown' && <span class="skeleton skeleton--pill" aria-hidden="true" />}
        {session.status === 'signed-out' && (
          <>
            <a class="btn btn--ghost" href={onAuthPage ? '/login' : loginUrl(url)}>
              Log in
            </a>
            <a class="btn btn--primary" href="/register">
              Sign up
            </a>
          </>
        )}
        {session.status === 'signed-in' && session.account && <AccountMenu account={session.account} />}
      </div>
    </header>
  );
}

function AccountMenu({ account }: { account: Me }) {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const { url, route } = useLocation();

  // Close on navigation, on Escape (focus back to the button) and on a click elsewhere.
  useEffect(() => setOpen(false), [url]);
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false);
        button.current?.focus();
      }
    };
    const onClick = (e: MouseEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('click', onClick);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('click', onClick);
    };
  }, [open]);

  async function logout() {
    setOpen(false);
    await api.logout();
    route('/');
  }

  return (
    <div class="menu" ref={root}>
      <button
        ref={button}
        type="button"
        class="menu__button"
        aria-expanded={open}
        aria-controls="account-menu"
        data-testid="account-menu"
        onClick={() => setOpen(!open)}
      >
        <Avatar channel={account} size="sm" />
        <span class="menu__name">{account.username}</span>
        <span class="visually-hidden">: account menu</span>
        <svg viewBox="0 0 12 12" class="menu__chevron" aria-hidden="true">
          <path d="M2 4l4 4 4-4" fill="none" stroke="currentColor" stroke-width="1.6" />
        </svg>
      </button>
      {open && (
        <ul class="menu__list" id="account-menu">
          <li>
            <a href={`/${encodeURIComponent(account.username)}`} class="menu__item">
              Your channel
            </a>
          </li>
          <li>
            <a href="/manager" class="menu__item">
              Stream manager
            </a>
          </li>
          <li>
            <a href="/health" class="menu__item">
              Stream health
            </a>
          </li>
          <li>
            <a href="/following" class="menu__item">
              Following
            </a>
          </li>
          <li>
            <a href="/settings" class="menu__item">
              Settings
            </a>
          </li>
          <li>
            <button type="button" class="menu__item" onClick={logout}>
              Log out
            </button>
          </li>
        </ul>
      )}
    </div>
  );
}
