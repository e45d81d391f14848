// A stubbed API for component tests: fetch answers from a route table, every request is recorded.
import { render } from '@testing-library/react';
import { vi } from 'vitest';
import { App, newQueryClient } from '../App';
import { STORAGE_KEY } from '../auth/session';

export interface Recorded {
  method: string;
  path: string;
  search: URLSearchParams;
  headers: Headers;
  body: unknown;
}

type Handler = (request: Recorded) => { status?: number; body: unknown } | undefined;

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** Replace fetch: each call goes to the first handler answering for "METHOD /path"; unknown routes are a 404. */
export function stubApi(routes: Record<string, Handler>) {
  const calls: Recorded[] = [];
  const fetchStub = vi.fn(async (input: RequestInfo | URL) => {
    const request = input instanceof Request ? input : new Request(input);
    const url = new URL(request.url);
    const text = await request.text();
    const recorded: Recorded = {
      method: request.method,
      path: url.pathname,
      search: url.searchParams,
      headers: request.headers,
      body: text === '' ? undefined : (JSON.parse(text) as unknown),
    };
    calls.push(recorded);
    for (const [route, handler] of Object.entries(routes)) {
      const [method, pattern] = route.split(' ') as [string, string];
      const regex = new RegExp(`^${pattern.replace(/:\w+/g, '[^/]+')}$`);
      if (method === request.method && regex.test(url.pathname)) {
        const answer = handler(recorded);
        if (answer !== undefined) return json(answer.status ?? 200, answer.body);
      }
    }
    return json(404, { error: { code: 'NOT_FOUND', message: `no stub for ${request.method} ${url.pathname}` } });
  });
  vi.stubGlobal('fetch', fetchStub);
  return calls;
}

export function page<T>(data: T[], nextCursor: number | null = null) {
  return {
    data,
    pagination: { page: 1, page_size: 20, total_count: data.length, total_pages: 1, next_cursor: nextCursor },
  };
}

export const UNAUTHENTICATED = {
  status: 401,
  body: { error: { code: 'UNAUTHENTICATED', message: 'missing or unknown API key' } },
};

/** The whole app at an address, signed in with a key unless apiKey is null. */
export function renderApp(path: string, apiKey: string | null = 'test-key') {
  if (apiKey !== null) sessionStorage.setItem(STORAGE_KEY, apiKey);
  window.history.pushState({}, '', `/app${path}`);
  const queryClient = newQueryClient();
  queryClient.setDefaultOptions({ queries: { ...queryClient.getDefaultOptions().queries, retry: false } });
  return render(<App queryClient={queryClient} />);
}

export const CUSTOMERS = [
  {
    id: 2,
    phone: '+254712000002',
    first_name: 'Otieno',
    last_name: 'Odhiambo',
    location: 'Kisumu',
    preferred_product: 'Running Shoes',
    created_at: '2030-01-02T08:00:00Z',
  },
  {
    id: 1,
    phone: '+254712000001',
    first_name: 'Wanjirũ',
    last_name: 'Kamau',
    location: 'Nairobi',
    preferred_product: 'Sandals',
    created_at: '2030-01-01T08:00:00Z',
  },
];

export function campaign(overrides: Record<string, unknown> = {}) {
  return {
    id: 7,
    name: 'Summer Sale',
    channel: 'sms',
    status: 'draft',
    base_template: 'Hi {first_name}!',
    scheduled_at: null,
    created_at: '2030-05-20T08:00:00Z',
    audience: { customer_ids: [1, 2], segment: null },
    status_reason: null,
    stats: { total: 0, pending: 0, sending: 0, sent: 0, failed: 0 },
    ...overrides,
  };
}
