// Server state: every read and write of the API as a TanStack Query hook (the only cache the app has).
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useApi } from '../auth/session';
import {
  ApiError,
  call,
  type CampaignDetail,
  type CampaignStatus,
  type Channel,
  type CreateCampaign,
  type UpdateCampaign,
} from './client';

/** How often a sending campaign's stats are fetched again. */
export const PROGRESS_REFRESH_MS = 1000;
/** Statuses after which nothing changes any more: the detail stops refreshing. */
export const FINISHED: readonly CampaignStatus[] = ['sent', 'failed', 'cancelled'];
/** Statuses whose counts may still move: a paused campaign's attempts in flight still end. */
export const LIVE: readonly CampaignStatus[] = ['sending', 'paused'];

export interface CampaignFilters {
  channel?: Channel | undefined;
  status?: CampaignStatus | undefined;
  beforeId?: number | undefined;
  pageSize?: number;
}

export const keys = {
  campaigns: ['campaigns'] as const,
  campaignList: (filters: CampaignFilters) => ['campaigns', 'list', filters] as const,
  campaign: (id: number) => ['campaigns', 'detail', id] as const,
  customers: ['customers'] as const,
  customerList: (beforeId: number | undefined, pageSize: number) => ['customers', 'list', beforeId, pageSize] as const,
  customer: (id: number) => ['customers', 'detail', id] as const,
  preview: (campaignId: number, customerId: number, template: string) =>
    ['preview', campaignId, customerId, template] as const,
};

export function useCampaigns(filters: CampaignFilters) {
  const api = useApi();
  return useQuery({
    queryKey: keys.campaignList(filters),
    queryFn: ({ signal }) =>
      call(
        api.GET('/campaigns', {
          params: {
            query: {
              page_size: filters.pageSize ?? 20,
              channel: filters.channel ?? null,
              status: filters.status ?? null,
              before_id: filters.beforeId ?? null,
            },
          },
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
    // a campaign on the page is going out: its badge turns to sent without a reload
    refetchInterval: (query) =>
      query.state.data?.data.some((campaign) => campaign.status === 'sending') ? 2 * PROGRESS_REFRESH_MS : false,
  });
}

export function useCampaign(id: number) {
  const api = useApi();
  return useQuery({
    queryKey: keys.campaign(id),
    queryFn: ({ signal }) => call(api.GET('/campaigns/{campaign_id}', { params: { path: { campaign_id: id } }, signal })),
    // live progress while it is going out; no polling once it is done (or before it starts)
    refetchInterval: (query) =>
      query.state.data !== undefined && LIVE.includes(query.state.data.status) ? PROGRESS_REFRESH_MS : false,
  });
}

export function useCustomers(beforeId: number | undefined, pageSize = 20) {
  const api = useApi();
  return useQuery({
    queryKey: keys.customerList(beforeId, pageSize),
    queryFn: ({ signal }) =>
      call(api.GET('/customers', { params: { query: { page_size: pageSize, before_id: beforeId ?? null } }, signal })),
    placeholderData: keepPreviousData,
  });
}

export function useCustomer(id: number) {
  const api = useApi();
  return useQuery({
    queryKey: keys.customer(id),
    queryFn: ({ signal }) => call(api.GET('/customers/{customer_id}', { params: { path: { customer_id: id } }, signal })),
  });
}

/** The template rendered for one customer on a campaign's channel; null arguments mean "nothing to preview yet". */
export function usePreview(campaignId: number | null, customerId: number | null, template: string) {
  const api = useApi();
  const ready = campaignId !== null && customerId !== null && template.trim() !== '';
  return useQuery({
    queryKey: keys.preview(campaignId ?? 0, customerId ?? 0, template),
    queryFn: ({ signal }) =>
      call(
        api.POST('/campaigns/{campaign_id}/personalized-preview', {
          params: { path: { campaign_id: campaignId ?? 0 } },
          body: { customer_id: customerId ?? 0, override_template: template },
          signal,
        }),
      ),
    enabled: ready,
    placeholderData: keepPreviousData,
    retry: false,
  });
}

export function useCreateCampaign() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateCampaign) => call(api.POST('/campaigns', { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.campaigns }),
  });
}

export function useUpdateCampaign(id: number) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: UpdateCampaign) =>
      call(api.PATCH('/campaigns/{campaign_id}', { params: { path: { campaign_id: id } }, body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.campaigns }),
  });
}

export function useCancelCampaign(id: number) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => call(api.POST('/campaigns/{campaign_id}/cancel', { params: { path: { campaign_id: id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.campaigns }),
  });
}

export interface SendArgs {
  /** Explicit recipients; undefined sends to the campaign's stored audience. */
  customerIds?: number[] | undefined;
  /** One key per confirmation, so a double click or a retry cannot send twice. */
  idempotencyKey: string;
}

export function useSendCampaign(id: number) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ customerIds, idempotencyKey }: SendArgs) =>
      call(
        api.POST('/campaigns/{campaign_id}/send', {
          params: { path: { campaign_id: id }, header: { 'Idempotency-Key': idempotencyKey } },
          ...(customerIds === undefined ? {} : { body: { customer_ids: customerIds } }),
        }),
      ),
    onSuccess: (answer) => {
      queryClient.setQueryData<CampaignDetail>(keys.campaign(id), (old) =>
        old === undefined ? old : { ...old, status: answer.status },
      );
      return queryClient.invalidateQueries({ queryKey: keys.campaigns });
    },
  });
}

/** Retry only what may pass on a second try: no answer, or a 5xx (never a 4xx: the request itself is wrong). */
export function shouldRetry(failures: number, error: unknown): boolean {
  if (error instanceof ApiError && error.status >= 400 && error.status < 500) return false;
  return failures < 2;
}

// ---- operator controls: pause, resume, cancel while sending, retry of failures -------------------------------

export type CampaignControl = 'pause' | 'resume' | 'cancel';

/** Pause, resume or cancel a campaign; the detail shows the answered status at once, then refreshes. */
export function useCampaignControl(id: number) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (action: CampaignControl) => {
      const params = { params: { path: { campaign_id: id } } };
      if (action === 'pause') return call(api.POST('/campaigns/{campaign_id}/pause', params));
      if (action === 'resume') return call(api.POST('/campaigns/{campaign_id}/resume', params));
      return call(api.POST('/campaigns/{campaign_id}/cancel', params));
    },
    onSuccess: (answer) => {
      queryClient.setQueryData<CampaignDetail>(keys.campaign(id), (old) =>
        old === undefined ? old : { ...old, status: answer.status },
      );
      return queryClient.invalidateQueries({ queryKey: keys.campaigns });
    },
  });
}

/** Queue a campaign's failed messages again (each once). */
export function useRetryFailed(id: number) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => call(api.POST('/campaigns/{campaign_id}/retry-failed', { params: { path: { campaign_id: id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.campaigns }),
  });
}
