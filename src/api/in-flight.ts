import type { FastifyReply } from 'fastify';
import type { Principal } from '../tenancy/access.js';
import type { RequestContext } from '../gateway/request-context.js';

interface Tracked extends RequestContext {
  end(): void;
}

/**
 * Every request being served, each with an AbortSignal that fires when its client goes
 * away (so generation stops and the engine slot frees at once) or when shutdown runs
 * out of patience.
 */
export class InFlightRequests {
  private readonly active = new Set<AbortController>();
  private idle: (() => void) | undefined;

  begin(reply: FastifyReply, principal: Principal): Tracked {
    const controller = new AbortController();
    this.active.add(controller);
    const onClose = () => {
      if (!reply.raw.writableFinished) controller.abort(new Error('client disconnected'));
    };
    reply.raw.once('close', onClose);
    return {
      // Fastify's request id (genReqId in server.ts): the same id in logs, headers and the ledger.
      requestId: reply.request.id,
      signal: controller.signal,
      principal,
      responseHeaders: {},
      end: () => {
        reply.raw.off('close', onClose);
        this.active.delete(controller);
        if (this.active.size === 0) this.idle?.();
      },
    };
  }

  get count(): number {
    return this.active.size;
  }

  /** Waits for in-flight requests to finish, up to graceMs; then aborts the rest. */
  async drain(graceMs: number): Promise<void> {
    if (this.active.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const controller of this.active) controller.abort(new Error('server shutting down'));
  }
}
