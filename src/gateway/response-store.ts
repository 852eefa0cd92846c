/**
 * Stored responses, per tenant: the chain a `previous_response_id` continues, and
 * `GET`/`DELETE /v1/responses/{id}` and its input items. Another tenant's id answers 404
 * exactly as a missing one does.
 */
import { SkylarkError } from '../core/errors.js';
import type { WireContentPart, WireInputItem } from '../contracts/response-request.js';
import type { DeletedResponse, OutputItem, ResponseItemList, ResponseObject } from '../contracts/response-objects.js';
import type { JsonObject, StoredResponse } from '../responses/stored-responses.js';
import type { Principal } from '../tenancy/access.js';
import { itemId } from './response-output.js';
import type { GatewayDeps } from './request-context.js';

/** The earlier turns a new request continues: every item the previous response saw, then its output. */
export async function previousTurns(deps: GatewayDeps, principal: Principal, id: string): Promise<WireInputItem[]> {
  const previous = await deps.responses.get(principal.tenantId, id);
  if (previous === undefined) {
    throw new SkylarkError('not_found', `Previous response with id '${id}' not found.`, { param: 'previous_response_id' });
  }
  // Items written by normalizeItems below: the request schema's shapes, with ids and statuses.
  return [...previous.inputItems, ...previous.outputItems] as unknown as WireInputItem[];
}

/**
 * Items as they are stored and listed: each with an id and a status, message content as a
 * list of parts (input_text for the user's side, output_text for the assistant's).
 */
export function normalizeItems(items: readonly WireInputItem[]): WireInputItem[] {
  return items.map((item): WireInputItem => {
    switch (item.type) {
      case 'message': {
        const assistant = item.role === 'assistant';
        const content: WireContentPart[] =
          typeof item.content !== 'string'
            ? item.content
            : [assistant ? { type: 'output_text', text: item.content, annotations: [], logprobs: [] } : { type: 'input_text', text: item.content }];
        return { ...item, id: item.id ?? itemId('msg'), status: item.status ?? 'completed', content };
      }
      case 'function_call':
        return { ...item, id: item.id ?? itemId('fc'), status: item.status ?? 'completed' };
      case 'function_call_output':
        return { ...item, id: item.id ?? itemId('fco'), status: item.status ?? 'completed' };
      case 'reasoning':
        return { ...item, id: typeof item.id === 'string' ? item.id : itemId('rs') } as WireInputItem;
    }
  });
}

export async function saveResponse(
  deps: GatewayDeps,
  principal: Principal,
  response: ResponseObject,
  inputItems: readonly WireInputItem[],
): Promise<void> {
  const { output, ...rest } = response;
  const stored: StoredResponse = {
    id: response.id,
    tenantId: principal.tenantId,
    model: response.model,
    status: response.status,
    previousResponseId: response.previous_response_id,
    inputItems: inputItems as unknown as JsonObject[],
    outputItems: output as unknown as JsonObject[],
    response: rest as unknown as JsonObject,
    createdAt: response.created_at * 1000,
  };
  await deps.responses.save(stored);
}

async function requireStored(deps: GatewayDeps, principal: Principal, id: string): Promise<StoredResponse> {
  const stored = await deps.responses.get(principal.tenantId, id);
  if (stored === undefined) throw new SkylarkError('not_found', `Response with id '${id}' not found.`, { param: 'response_id' });
  return stored;
}

/** GET /v1/responses/{id} */
export async function retrieveResponse(deps: GatewayDeps, principal: Principal, id: string): Promise<ResponseObject> {
  const stored = await requireStored(deps, principal, id);
  return { ...(stored.response as unknown as Omit<ResponseObject, 'output'>), output: stored.outputItems as unknown as OutputItem[] };
}

/** DELETE /v1/responses/{id} */
export async function deleteResponse(deps: GatewayDeps, principal: Principal, id: string): Promise<DeletedResponse> {
  if (!(await deps.responses.delete(principal.tenantId, id))) {
    throw new SkylarkError('not_found', `Response with id '${id}' not found.`, { param: 'response_id' });
  }
  return { id, object: 'response', deleted: true };
}

/** GET /v1/responses/{id}/input_items: the items the model saw, newest first unless `order=asc`. */
export async function listInputItems(
  deps: GatewayDeps,
  principal: Principal,
  id: string,
  query: { limit: number; order: 'asc' | 'desc'; after?: string | undefined },
): Promise<ResponseItemList> {
  const stored = await requireStored(deps, principal, id);
  const items = query.order === 'asc' ? [...stored.inputItems] : [...stored.inputItems].reverse();
  let start = 0;
  if (query.after !== undefined) {
    const at = items.findIndex((item) => item.id === query.after);
    if (at < 0) throw new SkylarkError('invalid_request', `No input item '${query.after}' in response '${id}'.`, { param: 'after' });
    start = at + 1;
  }
  const data = items.slice(start, start + query.limit);
  return {
    object: 'list',
    data,
    first_id: String(data[0]?.id ?? ''),
    last_id: String(data.at(-1)?.id ?? ''),
    has_more: start + query.limit < items.length,
  };
}
