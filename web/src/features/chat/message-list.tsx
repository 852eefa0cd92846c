/**
 * The conversation, virtualised: only the messages in view (plus a few) are in the DOM,
 * each measured as it renders, so a 1,000-message conversation opens and scrolls like a
 * short one. It follows the end while a reply is written, unless the reader scrolled up.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useLayoutEffect, useRef, type ReactNode } from 'react';
import type { WireMessage } from '../../../../src/contracts/apps-api.js';
import { MessageView } from './message-view.js';

interface Props {
  messages: WireMessage[];
  busy: boolean;
  onRegenerate: () => void;
  onEdit: (messageId: number, content: string) => void;
  /** Shown above the first message (the app's opening). */
  header?: ReactNode;
}

const nearBottomPx = 80;

export function MessageList({ messages, busy, onRegenerate, onEdit, header }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  const virtualizer = useVirtualizer({
    count: messages.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 96,
    overscan: 6,
    getItemKey: (index) => messages[index]!.id,
  });

  const last = messages.at(-1);
  const lastReplyIndex = messages.findLastIndex((m) => m.role === 'assistant');

  // Stay at the end while it grows, if the reader was there.
  useLayoutEffect(() => {
    if (pinned.current && messages.length > 0) virtualizer.scrollToIndex(messages.length - 1, { align: 'end' });
  }, [messages.length, last?.content.length, virtualizer]);

  // A newly opened conversation starts at its end.
  useEffect(() => {
    pinned.current = true;
  }, [messages[0]?.id]);

  return (
    <div
      ref={scroller}
      className="message-scroller"
      data-testid="message-scroller"
      onScroll={(event) => {
        const el = event.currentTarget;
        pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < nearBottomPx;
      }}
    >
      {header}
      <div className="message-track" style={{ height: virtualizer.getTotalSize() }}>
        {virtualizer.getVirtualItems().map((item) => {
          const message = messages[item.index]!;
          return (
            <div
              key={item.key}
              data-index={item.index}
              ref={virtualizer.measureElement}
              className="message-slot"
              style={{ transform: `translateY(${item.start}px)` }}
            >
              <MessageView
                message={message}
                onRegenerate={!busy && item.index === lastReplyIndex && item.index === messages.length - 1 ? onRegenerate : undefined}
                onEdit={!busy && message.role === 'user' ? (content) => onEdit(message.id, content) : undefined}
              />
            </div>
          );
        })}
      </div>
    </div>
  );
}
