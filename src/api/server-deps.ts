import type { AccountDeps } from '../accounts/accounts.js';
import type { GatewayDeps } from '../gateway/request-context.js';

/** What the server's routes call: the OpenAI request path and the account APIs. */
export type ServerDeps = GatewayDeps & AccountDeps;
