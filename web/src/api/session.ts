// The signed-in state as a hook: components re-render when the session changes.

import { useEffect, useState } from 'preact/hooks';
import { api, type SessionState } from './client';

export function useSession(): SessionState {
  const [state, setState] = useState(api.session);
  useEffect(() => {
    setState(api.session);
    return api.subscribe(setState);
  }, []);
  return state;
}
