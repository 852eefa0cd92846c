// @vitest-environment happy-dom
import { act, cleanup, renderHook, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { CursorPage } from './console-api.js';
import { useCursorList } from './cursor-list.js';

afterEach(cleanup);

/** A cursor list of `count` items served `size` at a time, newest first, as /v1/batches does. */
function server(count: number, size: number) {
  const items = Array.from({ length: count }, (_, i) => ({ id: `b${count - i}`, status: 'in_progress' }));
  const calls: Array<string | undefined> = [];
  const fetchPage = async (after?: string): Promise<CursorPage<(typeof items)[number]>> => {
    calls.push(after);
    const start = after === undefined ? 0 : items.findIndex((item) => item.id === after) + 1;
    const data = items.slice(start, start + size).map((item) => ({ ...item }));
    return { data, last_id: data.at(-1)?.id ?? null, has_more: start + size < items.length };
  };
  return { items, calls, fetchPage };
}

describe('useCursorList', () => {
  it('loads page by page, and a refresh reads again every loaded row, not just the first page', async () => {
    const backend = server(5, 2);
    const { result } = renderHook(() => useCursorList(backend.fetchPage, []));
    await waitFor(() => expect(result.current.items?.map((i) => i.id)).toEqual(['b5', 'b4']));
    expect(result.current.hasMore).toBe(true);

    act(() => result.current.loadMore());
    await waitFor(() => expect(result.current.items?.map((i) => i.id)).toEqual(['b5', 'b4', 'b3', 'b2']));
    expect(backend.calls).toEqual([undefined, 'b4']);

    // A row on the second page changes; a new one arrives at the top.
    backend.items[3]!.status = 'completed';
    backend.items.unshift({ id: 'b6', status: 'validating' });
    await act(() => result.current.refresh());
    expect(result.current.items?.map((i) => `${i.id}:${i.status}`)).toEqual(['b6:validating', 'b5:in_progress', 'b4:in_progress', 'b3:in_progress', 'b2:completed']);
    expect(result.current.hasMore).toBe(true);

    act(() => result.current.loadMore());
    await waitFor(() => expect(result.current.items?.map((i) => i.id)).toEqual(['b6', 'b5', 'b4', 'b3', 'b2', 'b1']));
    expect(result.current.hasMore).toBe(false);

    // A deleted last row: dropped here, and the refresh reads no further than the new last.
    backend.items.pop();
    act(() => result.current.remove('b1'));
    backend.calls.length = 0;
    await act(() => result.current.refresh());
    expect(result.current.items?.map((i) => i.id)).toEqual(['b6', 'b5', 'b4', 'b3', 'b2']);
    expect(backend.calls).toEqual([undefined, 'b5', 'b3']);
  });

  it('keeps the rows it has when a refresh fails, and says why', async () => {
    const backend = server(1, 20);
    let fail = false;
    const { result } = renderHook(() => useCursorList((after) => (fail ? Promise.reject(new Error('offline')) : backend.fetchPage(after)), []));
    await waitFor(() => expect(result.current.items).toHaveLength(1));
    fail = true;
    await act(() => result.current.refresh());
    expect(result.current.items).toHaveLength(1);
    expect((result.current.error as Error).message).toBe('offline');
  });
});
