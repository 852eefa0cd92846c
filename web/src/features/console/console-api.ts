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
  /** Per image unit, per 1M speech characters, per audio minute (media models). */
  image?: string;
  speech_chars?: string;
  audio_minute?: string;
}

/** OpenAI's File object (GET /v1/files). */
export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
}

export type BatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';
export const batchEndpoints = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'] as const;

/** OpenAI's Batch object (GET /v1/batches); `tenant_id` only in /admin/batches. */
export interface BatchObject {
  id: string;
  object: 'batch';
  endpoint: string;
  status: BatchStatus;
  input_file_id: string;
  output_file_id?: string;
  error_file_id?: string;
  errors?: { data: Array<{ code: string; message: string; line?: number | null }> };
  request_counts: { total: number; completed: number; failed: number };
  created_at: number;
  completed_at?: number;
  failed_at?: number;
  expired_at?: number;
  cancelled_at?: number;
  tenant_id?: string;
}

/** A page of an OpenAI cursor list. */
export interface CursorPage<T> {
  data: T[];
  last_id: string | null;
  has_more: boolean;
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

  /** The calling key's tenant's files and batches (/v1/files, /v1/batches), as any OpenAI client sees them. */
  files = (after?: string) => this.call<CursorPage<FileObject>>('GET', `/v1/files${query({ limit: '50', after })}`);
  deleteFile = (id: string) => this.call<{ deleted: boolean }>('DELETE', `/v1/files/${enc(id)}`);
  uploadFile = (file: File, purpose: string) => {
    const form = new FormData();
    form.append('purpose', purpose);
    form.append('file', file, file.name);
    return this.send('POST', '/v1/files', form).then((r) => r.json() as Promise<FileObject>);
  };
  fileContent = (id: string) => this.send('GET', `/v1/files/${enc(id)}/content`).then((r) => r.blob());
  batches = (after?: string) => this.call<CursorPage<BatchObject>>('GET', `/v1/batches${query({ limit: '20', after })}`);
  createBatch = (body: { input_file_id: string; endpoint: string; completion_window: '24h' }) => this.call<BatchObject>('POST', '/v1/batches', body);
  cancelBatch = (id: string) => this.call<BatchObject>('POST', `/v1/batches/${enc(id)}/cancel`);
  /** Every tenant's batches, or one tenant's (admin key). */
  adminCancelBatch = (id: string) => this.call<BatchObject>('POST', `/admin/batches/${enc(id)}/cancel`);
  adminBatches = (tenantId?: string) => this.call<List<BatchObject>>('GET', `/admin/batches${query({ tenant_id: tenantId, limit: '100' })}`).then((r) => r.data);

  /** A request whose body or answer is not JSON (an upload, a file's bytes). */
  private async send(method: string, path: string, body?: FormData): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(path, { method, headers: { authorization: `Bearer ${this.key}` }, credentials: 'omit', ...(body ? { body } : {}) });
    } catch (error) {
      throw new NetworkError(error);
    }
    if (!response.ok) throw await toApiError(response);
    return response;
  }
}
