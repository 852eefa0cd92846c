/**
 * An OpenAI cursor list (`after` = the last id seen) shown page by page with "Load more".
 * `refresh` reads again as many items as are shown, so a list that is polled keeps every
 * loaded row current, not just the first page.
 */
import { useCallback, useEffect, useRef, useState, type DependencyList } from 'react';
import type { CursorPage } from './console-api.js';

export interface CursorList<T> {
  items: T[] | undefined;
  hasMore: boolean;
  error: unknown;
  loadingMore: boolean;
  loadMore: () => void;
  refresh: () => Promise<void>;
}

export function useCursorList<T extends { id: string }>(fetchPage: (after?: string) => Promise<CursorPage<T>>, deps: DependencyList): CursorList<T> {
  const [items, setItems] = useState<T[]>();
  const [hasMore, setHasMore] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const shown = useRef(0);
  // Answers to an older generation (before deps changed, or overtaken by a newer read) are dropped.
  const generation = useRef(0);
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;

  const readAtLeast = useCallback(async (count: number) => {
    const ticket = ++generation.current;
    try {
      const all: T[] = [];
      let more = true;
      let after: string | undefined;
      while (more && (all.length === 0 || all.length < count)) {
        const page = await fetchRef.current(after);
        all.push(...page.data);
        more = page.has_more;
        after = page.last_id ?? undefined;
        if (page.data.length === 0) break;
      }
      if (ticket !== generation.current) return;
      shown.current = all.length;
      setItems(all);
      setHasMore(more);
      setError(null);
    } catch (failure) {
      if (ticket === generation.current) setError(failure);
    }
  }, []);

  useEffect(() => {
    shown.current = 0;
    setItems(undefined);
    void readAtLeast(0);
    return () => {
      generation.current++;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  const refresh = useCallback(() => readAtLeast(shown.current), [readAtLeast]);

  const loadMore = useCallback(() => {
    const last = items?.at(-1);
    if (!last) return;
    const ticket = generation.current;
    setLoadingMore(true);
    fetchRef.current(last.id).then(
      (page) => {
        if (ticket !== generation.current) return;
        setItems((current) => {
          const next = [...(current ?? []), ...page.data.filter((item) => !current?.some((have) => have.id === item.id))];
          shown.current = next.length;
          return next;
        });
        setHasMore(page.has_more);
        setError(null);
      },
      (failure: unknown) => ticket === generation.current && setError(failure),
    ).finally(() => setLoadingMore(false));
  }, [items]);

  return { items, hasMore, error, loadingMore, loadMore, refresh };
}
