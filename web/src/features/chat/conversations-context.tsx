import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { WireConversation } from '../../../../src/contracts/apps-api.js';
import { api } from '../../api/client.js';

interface Conversations {
  list: WireConversation[];
  reload(): void;
}

const ConversationsContext = createContext<Conversations>({ list: [], reload: () => {} });

/** The signed-in user's conversations, reloaded whenever a page changes one. */
export function ConversationsProvider({ children, userId }: { children: ReactNode; userId: string }) {
  const [list, setList] = useState<WireConversation[]>([]);
  const [version, setVersion] = useState(0);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  useEffect(() => {
    let current = true;
    api.conversations().then(
      (conversations) => current && setList(conversations),
      () => undefined, // the list stays as it was; the page shows its own errors
    );
    return () => {
      current = false;
    };
  }, [version, userId]);
  const value = useMemo(() => ({ list, reload }), [list, reload]);
  return <ConversationsContext.Provider value={value}>{children}</ConversationsContext.Provider>;
}

export function useConversations(): Conversations {
  return useContext(ConversationsContext);
}
