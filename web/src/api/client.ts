// The typed API client: openapi-fetch over the types openapi-typescript generates from campaign-api's OpenAPI
// (schema.d.ts, checked against the live schema by `make lint`), with the bearer key on every request.
import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

type Schemas = components['schemas'];
export type Campaign = Schemas['CampaignBody'];
export type CampaignDetail = Schemas['CampaignDetailBody'];
export type CampaignSummary = Schemas['CampaignSummaryBody'];
export type CampaignStatus = Schemas['CampaignStatus'];
export type Channel = Schemas['Channel'];
export type Stats = Schemas['StatsBody'];
export type Audience = Schemas['AudienceBody'];
export type Customer = Schemas['CustomerBody'];
export type Pagination = Schemas['PaginationBody'];
export type Preview = Schemas['PreviewResponse'];
export type SendResult = Schemas['SendResponse'];
export type CreateCampaign = Schemas['CreateCampaignRequest'];
export type UpdateCampaign = Schemas['UpdateCampaignRequest'];
export type ReplayResult = Schemas['ReplayResponse'];

export const CHANNELS: readonly Channel[] = ['sms', 'whatsapp'];
export const STATUSES: readonly CampaignStatus[] = ['draft', 'scheduled', 'sending', 'sent', 'failed'];

/** An answer in the API's error shape ({"error": {"code", "message"}}), or a failure to reach it. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

function isErrorBody(body: unknown): body is { error: { code: string; message: string } } {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const error = body.error;
  return typeof error === 'object' && error !== null && 'code' in error && 'message' in error;
}

/** The data of a successful answer; an ApiError for anything else. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  const { data, error, response } = result;
  if (error !== undefined || !response.ok) {
    if (isErrorBody(error)) throw new ApiError(response.status, error.error.code, error.error.message);
    throw new ApiError(response.status, `HTTP_${response.status}`, response.statusText || 'unexpected answer');
  }
  return data as T;
}

export interface ClientOptions {
  /** The API key, sent as `Authorization: Bearer <key>`. */
  apiKey: string;
  /** Called when the API answers 401: the key is missing, unknown or revoked. */
  onUnauthorized: () => void;
  baseUrl?: string;
}

export function makeClient({ apiKey, onUnauthorized, baseUrl }: ClientOptions) {
  // same origin as the page: campaign-api serves the app under /app/ and the API at its root
  const client = createClient<paths>({
    baseUrl: baseUrl ?? window.location.origin,
    // looked up per call, so a test's stubbed fetch is seen
    fetch: (request: Request) => globalThis.fetch(request),
  });
  client.use({
    onRequest({ request }) {
      request.headers.set('Authorization', `Bearer ${apiKey}`);
      return request;
    },
    onResponse({ response }) {
      if (response.status === 401) onUnauthorized();
      return response;
    },
  });
  return client;
}

export type Api = ReturnType<typeof makeClient>;

/** A network failure (no answer at all) as an ApiError, so screens handle one error type. */
export async function call<T>(request: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await request;
  } catch (exc) {
    throw new ApiError(0, 'NETWORK_ERROR', exc instanceof Error ? exc.message : 'the API did not answer');
  }
  return unwrap(result);
}
