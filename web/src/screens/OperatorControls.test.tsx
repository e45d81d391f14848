import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { campaign, renderApp, stubApi } from '../test/api';

const stats = (sent: number, pending: number, failed = 0) => ({ total: sent + pending + failed, pending, sending: 0, sent, failed });

describe('the operator controls on the campaign detail', () => {
  it('pauses a sending campaign: the button turns into Resume and the counts stay where they were', async () => {
    let status = 'sending';
    const calls = stubApi({
      'GET /campaigns/:id': () => ({ body: campaign({ status, stats: stats(3, 5) }) }),
      'POST /campaigns/:id/pause': () => {
        status = 'paused';
        return { body: campaign({ status: 'paused' }) };
      },
    });
    renderApp('/campaigns/7');
    await userEvent.click(await screen.findByRole('button', { name: 'Pause' }));

    expect(await screen.findByRole('button', { name: 'Resume' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Pause' })).not.toBeInTheDocument();
    expect(screen.getByText('paused', { selector: '.badge' })).toBeInTheDocument();
    expect(screen.getByRole('note')).toHaveTextContent('no new message goes out until you resume');
    expect(screen.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '3');
    expect(calls.filter((call) => call.method === 'POST').map((call) => call.path)).toEqual(['/campaigns/7/pause']);
  });

  it('resumes a paused campaign', async () => {
    let status = 'paused';
    stubApi({
      'GET /campaigns/:id': () => ({ body: campaign({ status, stats: stats(3, 5) }) }),
      'POST /campaigns/:id/resume': () => {
        status = 'sending';
        return { body: campaign({ status: 'sending' }) };
      },
    });
    renderApp('/campaigns/7');
    await userEvent.click(await screen.findByRole('button', { name: 'Resume' }));

    expect(await screen.findByRole('button', { name: 'Pause' })).toBeInTheDocument();
    expect(screen.getByText('sending', { selector: '.badge' })).toBeInTheDocument();
  });

  it('asks before cancelling, and keeping it sends nothing', async () => {
    let status = 'sending';
    const calls = stubApi({
      'GET /campaigns/:id': () => ({ body: campaign({ status, stats: stats(3, 5) }) }),
      'POST /campaigns/:id/cancel': () => {
        status = 'cancelled';
        return { body: campaign({ status: 'cancelled' }) };
      },
    });
    renderApp('/campaigns/7');
    await userEvent.click(await screen.findByRole('button', { name: 'Cancel campaign…' }));
    await userEvent.click(screen.getByRole('button', { name: 'Keep it' }));
    expect(calls.some((call) => call.method === 'POST')).toBe(false);

    await userEvent.click(screen.getByRole('button', { name: 'Cancel campaign…' }));
    await userEvent.click(screen.getByRole('button', { name: 'Yes, cancel the rest' }));

    expect(await screen.findByText('cancelled', { selector: '.badge' })).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Pause' })).not.toBeInTheDocument());
    expect(screen.queryByRole('button', { name: 'Resume' })).not.toBeInTheDocument();
  });

  it('shows why a control was refused', async () => {
    stubApi({
      'GET /campaigns/:id': () => ({ body: campaign({ status: 'sending', stats: stats(1, 1) }) }),
      'POST /campaigns/:id/pause': () => ({
        status: 409,
        body: { error: { code: 'CAMPAIGN_NOT_PAUSABLE', message: 'Campaign 7 is sent; only a sending campaign can be paused' } },
      }),
    });
    renderApp('/campaigns/7');
    await userEvent.click(await screen.findByRole('button', { name: 'Pause' }));

    expect(await screen.findByRole('alert')).toHaveTextContent('only a sending campaign can be paused');
  });

  it('offers to retry the failures of a finished campaign and says how many went again', async () => {
    const calls = stubApi({
      'GET /campaigns/:id': () => ({ body: campaign({ status: 'failed', stats: stats(0, 0, 4) }) }),
      'POST /campaigns/:id/retry-failed': () => ({
        body: { replayed: 4, message_ids: [1, 2, 3, 4], campaign_ids: [7], removed_from_dlq: 4 },
      }),
    });
    renderApp('/campaigns/7');
    await userEvent.click(await screen.findByRole('button', { name: 'Retry 4 failed' }));

    expect(await screen.findByRole('status')).toHaveTextContent('4 failed messages queued again');
    expect(calls.filter((call) => call.method === 'POST')).toHaveLength(1);
  });

  it('offers no control on a draft or a cancelled campaign', async () => {
    stubApi({ 'GET /campaigns/:id': () => ({ body: campaign({ status: 'cancelled', stats: stats(2, 0) }) }) });
    renderApp('/campaigns/7');
    await screen.findByRole('heading', { name: 'Summer Sale' });
    for (const name of ['Pause', 'Resume', 'Cancel campaign…']) {
      expect(screen.queryByRole('button', { name })).not.toBeInTheDocument();
    }
  });
});
