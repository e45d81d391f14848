// The signed-in session: the API key lives in sessionStorage (gone when the tab closes), the client built over it is
// handed down by context. A 401 from any call signs out and brings the sign-in back with a reason.
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { makeClient, type Api } from '../api/client';

export const STORAGE_KEY = 'campaign-dispatch.api-key';

interface Session {
  api: Api | null;
  /** Why the sign-in is showing again (a 401), if it is. */
  reason: string | null;
  signIn: (apiKey: string) => void;
  signOut: (reason?: string) => void;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [apiKey, setApiKey] = useState<string | null>(() => sessionStorage.getItem(STORAGE_KEY));
  const [reason, setReason] = useState<string | null>(null);

  const signOut = useCallback(
    (why?: string) => {
      sessionStorage.removeItem(STORAGE_KEY);
      setApiKey(null);
      setReason(why ?? null);
      queryClient.clear();
    },
    [queryClient],
  );
  const signIn = useCallback((key: string) => {
    sessionStorage.setItem(STORAGE_KEY, key);
    setReason(null);
    setApiKey(key);
  }, []);

  const api = useMemo(
    () =>
      apiKey === null
        ? null
        : makeClient({
            apiKey,
            onUnauthorized: () => {
              signOut('The API did not accept your key (UNAUTHENTICATED). Sign in again.');
            },
          }),
    [apiKey, signOut],
  );
  const session = useMemo(() => ({ api, reason, signIn, signOut }), [api, reason, signIn, signOut]);
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error('useSession outside SessionProvider');
  return session;
}

/** The API client of the signed-in session (only used below the sign-in gate). */
export function useApi(): Api {
  const { api } = useSession();
  if (api === null) throw new Error('useApi before sign-in');
  return api;
}
