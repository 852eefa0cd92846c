/**
 * An OpenAI cursor list (`after` = the last id seen) shown page by page with "Load more".
 * `refresh` reads again down to the last row shown, so a list that is polled keeps every
 * loaded row current, not just the first page, and rows new at the top push none out.
 */
import { useCallback, useEffect, useRef, useState, type DependencyList } from 'react';
import type { CursorPage } from './console-api.js';

/** The most rows a refresh reads. */
const maxRows = 500;

export interface CursorList<T> {
  items: T[] | undefined;
  hasMore: boolean;
  error: unknown;
  loadingMore: boolean;
  loadMore: () => void;
  refresh: () => Promise<void>;
  /** Drops a row deleted on the server, so the next refresh need not look for it. */
  remove: (id: string) => void;
}

export function useCursorList<T extends { id: string }>(fetchPage: (after?: string) => Promise<CursorPage<T>>, deps: DependencyList): CursorList<T> {
  const [items, setItems] = useState<T[]>();
  const [hasMore, setHasMore] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  /** The last row shown: a refresh reads down to it. */
  const lastShown = useRef<string | undefined>(undefined);
  // Answers to an older generation (before deps changed, or overtaken by a newer read) are dropped.
  const generation = useRef(0);
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;

  const readDownTo = useCallback(async (last: string | undefined) => {
    const ticket = ++generation.current;
    try {
      const all: T[] = [];
      let more = true;
      let after: string | undefined;
      do {
        const page = await fetchRef.current(after);
        all.push(...page.data);
        more = page.has_more && page.data.length > 0;
        after = page.last_id ?? undefined;
        // A last row deleted meanwhile is never met: stop a bounded way further.
      } while (more && last !== undefined && !all.some((item) => item.id === last) && all.length < maxRows);
      if (ticket !== generation.current) return;
      // Rows past the last one shown stay behind "Load more", as they were.
      const end = last === undefined ? -1 : all.findIndex((item) => item.id === last);
      if (end >= 0 && end < all.length - 1) {
        all.length = end + 1;
        more = true;
      }
      lastShown.current = all.at(-1)?.id;
      setItems(all);
      setHasMore(more);
      setError(null);
    } catch (failure) {
      if (ticket === generation.current) setError(failure);
    }
  }, []);

  useEffect(() => {
    lastShown.current = undefined;
    setItems(undefined);
    void readDownTo(undefined);
    return () => {
      generation.current++;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  const refresh = useCallback(() => readDownTo(lastShown.current), [readDownTo]);

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
          lastShown.current = next.at(-1)?.id;
          return next;
        });
        setHasMore(page.has_more);
        setError(null);
      },
      (failure: unknown) => ticket === generation.current && setError(failure),
    ).finally(() => setLoadingMore(false));
  }, [items]);

  const remove = useCallback((id: string) => {
    setItems((current) => {
      const next = current?.filter((item) => item.id !== id);
      lastShown.current = next?.at(-1)?.id;
      return next;
    });
  }, []);

  return { items, hasMore, error, loadingMore, loadMore, refresh, remove };
}
