import type { ReactNode } from 'react';
import { NavLink } from 'react-router-dom';
import { useSession } from '../auth/session';

export function Layout({ children }: { children: ReactNode }) {
  const { signOut } = useSession();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Campaign Dispatch</span>
        <nav aria-label="Main">
          <NavLink to="/campaigns">Campaigns</NavLink>
          <NavLink to="/customers">Customers</NavLink>
        </nav>
        <button
          type="button"
          className="button ghost"
          onClick={() => {
            signOut();
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
