/**
 * The consumer room: the web app's use cases (sign-up and sign-in, the app factory, chat
 * with server-side replies that survive a reload, conversations and search), behind the
 * `/api` routes the React app at `/` calls. It generates through the gateway's own chat
 * completion use case, so a web-app reply is scheduled, limited and billed like any API
 * request, and keeps its state in src/apps. This file holds what its use cases need: the
 * gateway (to generate), the consumer-side stores of src/apps, the reply runs (in memory,
 * relayed to other gateways) and the sign-in limits.
 */
import type { Kysely } from 'kysely';
import type { Apps } from '../apps/apps.js';
import type { AttemptLimiter } from '../apps/attempt-limiter.js';
import type { Conversations } from '../apps/conversations.js';
import type { EndUsers } from '../apps/end-users.js';
import type { Quotas } from '../apps/quotas.js';
import type { Database } from '../store/schema.js';
import type { Principal } from '../tenancy/access.js';
import { operatorTenantId } from '../tenancy/access.js';
import type { ChatRuns } from './chat-runs.js';
import type { ReplyRelay } from './reply-relay.js';
import type { GatewayDeps } from '../gateway/request-context.js';

export interface ConsumerDeps {
  gateway: GatewayDeps;
  db: Kysely<Database>;
  users: EndUsers;
  apps: Apps;
  conversations: Conversations;
  quotas: Quotas;
  runs: ChatRuns;
  /** How other gateways see this one's replies, and it theirs (reply-relay.ts). */
  relay: ReplyRelay;
  /** Failed sign-ins per IP + username. */
  signInLimiter: AttemptLimiter;
  /** Accounts and guest sessions created per IP. */
  signUpLimiter: AttemptLimiter;
  /** A guest's daily tokens per app, whatever the app allows members. */
  guestDailyTokens: number;
  now: () => number;
}

/**
 * Web app replies are billed to the operator tenant: the platform offers the apps and
 * their daily free quotas, so the operator pays for the tokens and each end user is held
 * to the quota. (Calls through the API as `app:{slug}` are billed to the caller's key.)
 */
export function webAppPrincipal(): Principal {
  // Consumer traffic waits in the free tier, behind paid API customers.
  return { tenantId: operatorTenantId, keyId: null, operator: true, scopes: [], limits: null, monthlyBudgetMicros: null, tier: 'free' };
}
