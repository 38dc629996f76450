// Loads something for a page, again whenever `deps` change; a stale answer never overwrites a
// newer one.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  /** Replace the data with what a mutation returned, without asking again. */
  set: (data: T) => void;
}

export function useResource<T>(load: (() => Promise<T>) | null, deps: unknown[]): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(load !== null);
  const [tick, setTick] = useState(0);
  const generation = useRef(0);

  useEffect(() => {
    if (!load) {
      setLoading(false);
      return;
    }
    const mine = ++generation.current;
    setLoading(true);
    setError(undefined);
    load().then(
      (value) => {
        if (mine !== generation.current) return;
        setData(value);
        setLoading(false);
      },
      (err: unknown) => {
        if (mine !== generation.current) return;
        setError(err);
        setLoading(false);
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick, load === null]);

  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload, set: setData };
}

/** Sets the document title for a page. */
export function useTitle(title: string | null) {
  useEffect(() => {
    document.title = title ? `${title} · Showrunner` : 'Showrunner';
  }, [title]);
}
