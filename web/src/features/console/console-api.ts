/**
 * The console's way to the server: the public HTTP API (/v1 and /admin) with the API key
 * the person pasted as a bearer token — never the web app's session cookie, so the console
 * can do exactly what that key can do through the API and nothing more.
 */
import type {
  ApiKeyObject,
  BalanceObject,
  EndpointObject,
  LedgerPage,
  PriceObject,
  RedeemCodeObject,
  CreatedRedeemCodeObject,
  TenantObject,
  TopUpObject,
  UsageReport,
} from '../../../../src/contracts/admin-responses.js';
import type { ContextObject } from '../../../../src/contracts/context-request.js';
import { NetworkError, toApiError } from '../../api/client.js';

type List<T> = { object: 'list'; data: T[] };
export type Tier = 'priority' | 'standard' | 'free' | 'batch';
export type Breaker = 'closed' | 'open' | 'half-open';

/** GET /v1/queue and /admin/queue (the scheduler's QueueSnapshot on the wire). */
export interface QueueSnapshot {
  object: 'queue.snapshot';
  at: number;
  models: Array<{
    model: string;
    tiers: Array<{ tier: Tier; depth: number; oldestWaitMs: number; etaMs: number }>;
    replicas: Array<{ id: string; slots: number; busy: number; breaker: Breaker }>;
  }>;
}

/** GET /admin/engines. */
export interface EngineList {
  object: 'list';
  data: Array<{
    id: string;
    kind: string;
    models: string[];
    health: { state: 'loading' | 'ready' } | { state: 'failed'; reason: string };
    capacity: { slots: number; busy: number };
  }>;
  in_flight_requests: number;
}

export type UsageGroup = 'day' | 'model' | 'key' | 'endpoint';

export interface CreateEndpoint {
  model: string;
  name?: string;
  rpm?: number;
  tpm?: number;
  fallbacks?: string[];
}

export interface CreateKey {
  name?: string;
  models?: string[];
  rpm?: number;
  tpm?: number;
  monthly_budget?: string;
}

export interface SetPrice {
  model: string;
  currency?: 'CNY' | 'USD';
  input: string;
  cached_input?: string;
  output: string;
}

const enc = encodeURIComponent;

function query(params: Record<string, string | undefined>): string {
  const pairs = Object.entries(params).filter((pair): pair is [string, string] => pair[1] !== undefined && pair[1] !== '');
  return pairs.length === 0 ? '' : `?${new URLSearchParams(pairs).toString()}`;
}

export class ConsoleApi {
  constructor(private readonly key: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${this.key}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers,
        credentials: 'omit',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new NetworkError(error);
    }
    if (!response.ok) throw await toApiError(response);
    return (await response.json()) as T;
  }

  balance = (tenantId?: string) => this.call<BalanceObject>('GET', `/v1/balance${query({ tenant_id: tenantId })}`);
  usage = (groupBy: UsageGroup[], range: { start: string; end: string }, tenantId?: string) =>
    this.call<UsageReport>('GET', `/v1/usage${query({ group_by: groupBy.join(','), start_date: range.start, end_date: range.end, tenant_id: tenantId })}`);
  queue = () => this.call<QueueSnapshot>('GET', '/v1/queue');
  models = () => this.call<List<{ id: string }>>('GET', '/v1/models').then((r) => r.data.map((m) => m.id));

  tenants = () => this.call<List<TenantObject>>('GET', '/admin/tenants').then((r) => r.data);
  createTenant = (body: { name: string; tier?: Tier; currency?: 'CNY' | 'USD' }) => this.call<TenantObject>('POST', '/admin/tenants', body);
  updateTenant = (id: string, body: { tier?: Tier; status?: 'active' | 'suspended' }) => this.call<TenantObject>('PATCH', `/admin/tenants/${enc(id)}`, body);

  keys = (tenantId: string) => this.call<List<ApiKeyObject>>('GET', `/admin/tenants/${enc(tenantId)}/keys`).then((r) => r.data);
  createKey = (tenantId: string, body: CreateKey) => this.call<ApiKeyObject & { key: string }>('POST', `/admin/tenants/${enc(tenantId)}/keys`, body);
  revokeKey = (keyId: string) => this.call<ApiKeyObject>('POST', `/admin/keys/${enc(keyId)}/revoke`);
  /** The calling key's own tenant (/v1/keys): what a tenant's member may do. */
  ownKeys = () => this.call<List<ApiKeyObject>>('GET', '/v1/keys').then((r) => r.data);
  createOwnKey = (body: CreateKey) => this.call<ApiKeyObject & { key: string }>('POST', '/v1/keys', body);
  revokeOwnKey = (keyId: string) => this.call<ApiKeyObject>('POST', `/v1/keys/${enc(keyId)}/revoke`);

  endpoints = (tenantId?: string) => this.call<List<EndpointObject>>('GET', `/admin/endpoints${query({ tenant_id: tenantId })}`).then((r) => r.data);
  setEndpoint = (id: string, verb: 'start' | 'stop') => this.call<EndpointObject>('POST', `/admin/endpoints/${enc(id)}/${verb}`);
  /** The calling key's own tenant's endpoints (/v1/endpoints): its own and the shared presets. */
  createEndpoint = (tenantId: string, body: CreateEndpoint) => this.call<EndpointObject>('POST', '/admin/endpoints', { tenant_id: tenantId, ...body });
  createOwnEndpoint = (body: CreateEndpoint) => this.call<EndpointObject>('POST', '/v1/endpoints', body);
  ownEndpoints = () => this.call<List<EndpointObject>>('GET', '/v1/endpoints').then((r) => r.data);
  setOwnEndpoint = (id: string, verb: 'start' | 'stop') => this.call<EndpointObject>('POST', `/v1/endpoints/${enc(id)}/${verb}`);

  prices = (model?: string) => this.call<List<PriceObject>>('GET', `/admin/prices${query({ model })}`).then((r) => r.data);
  setPrice = (body: SetPrice) => this.call<PriceObject>('POST', '/admin/prices', body);

  topUp = (tenantId: string, body: { amount: string; ref?: string }) => this.call<TopUpObject>('POST', `/admin/tenants/${enc(tenantId)}/topups`, body);
  ledger = (tenantId: string, before?: number) =>
    this.call<LedgerPage>('GET', `/admin/tenants/${enc(tenantId)}/ledger${query({ limit: '50', before: before?.toString() })}`);
  /** The calling key's own tenant's ledger (/v1/ledger). */
  ownLedger = (before?: number) => this.call<LedgerPage>('GET', `/v1/ledger${query({ limit: '50', before: before?.toString() })}`);

  redeemCodes = () => this.call<List<RedeemCodeObject>>('GET', '/admin/redeem-codes').then((r) => r.data);
  createRedeemCodes = (body: { amount: string; count: number; currency?: 'CNY' | 'USD'; expires_at?: number }) =>
    this.call<List<CreatedRedeemCodeObject>>('POST', '/admin/redeem-codes', body).then((r) => r.data);

  /** The calling key's own tenant's cached contexts (/v1/contexts), newest first. */
  contexts = () => this.call<List<ContextObject>>('GET', '/v1/contexts?limit=100').then((r) => r.data);
  deleteContext = (id: string) => this.call<{ id: string; deleted: true }>('DELETE', `/v1/contexts/${enc(id)}`);

  engines = () => this.call<EngineList>('GET', '/admin/engines');
  adminQueue = () => this.call<QueueSnapshot>('GET', '/admin/queue');
}
