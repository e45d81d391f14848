import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { PROGRESS_REFRESH_MS } from '../api/queries';
import { campaign, page, renderApp, stubApi } from '../test/api';

const sending = (sent: number) =>
  campaign({ status: 'sending', stats: { total: 4, pending: 4 - sent, sending: 0, sent, failed: 0 } });

describe('the campaign detail', () => {
  it('refreshes the progress bar while sending and stops once the campaign is done', async () => {
    const answers = [sending(1), sending(3), campaign({ status: 'sent', stats: { total: 4, pending: 0, sending: 0, sent: 3, failed: 1 } })];
    const calls = stubApi({ 'GET /campaigns/:id': () => ({ body: answers.length > 1 ? answers.shift() : answers[0] }) });
    renderApp('/campaigns/7');
    const bar = await screen.findByRole('progressbar');
    expect(bar).toHaveAttribute('aria-valuenow', '1');
    expect(bar).toHaveAttribute('aria-valuemax', '4');
    await waitFor(() => expect(screen.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '4'), { timeout: 4 * PROGRESS_REFRESH_MS });
    expect(screen.getByText(/Done: 4 of 4 messages processed/)).toBeInTheDocument();
    expect(screen.getByText('sent', { selector: '.badge' })).toBeInTheDocument();
    const settled = calls.length;
    await new Promise((resolve) => setTimeout(resolve, 2 * PROGRESS_REFRESH_MS));
    expect(calls.length).toBe(settled);
  });

  it('offers send and edit for a draft, and shows messages_queued after a confirmed send', async () => {
    const calls = stubApi({
      'GET /campaigns/:id': () => ({ body: campaign() }),
      'GET /customers': () => ({ body: page([]) }),
      'POST /campaigns/:id/send': () => ({
        status: 202,
        body: {
          campaign_id: 7,
          messages_queued: 2,
          status: 'sending',
          expected_segments: 2,
          expected_segments_total: 3,
          expected_segments_sampled: 2,
        },
      }),
    });
    renderApp('/campaigns/7');
    expect(await screen.findByRole('link', { name: 'Edit' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Cancel schedule' })).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Send…' }));
    const dialog = screen.getByRole('dialog');
    expect(dialog).toHaveTextContent('The campaign’s audience: 2 customers by id');
    expect(screen.getByTestId('recipient-count')).toHaveTextContent('2');
    await userEvent.click(screen.getByRole('button', { name: 'Confirm send' }));
    expect(await screen.findByRole('status')).toHaveTextContent(
      '2 messages queued. 3 SMS segments in all, at most 2 per message.',
    );
    const send = calls.find((call) => call.method === 'POST');
    expect(send?.body).toBeUndefined(); // the stored audience: no body
    expect(send?.headers.get('Idempotency-Key')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends to typed ids and counts them without duplicates', async () => {
    const calls = stubApi({
      'GET /campaigns/:id': () => ({ body: campaign({ audience: null }) }),
      'GET /customers': () => ({ body: page([]) }),
      'POST /campaigns/:id/send': () => ({ status: 202, body: { campaign_id: 7, messages_queued: 3, status: 'sending' } }),
    });
    renderApp('/campaigns/7');
    await userEvent.click(await screen.findByRole('button', { name: 'Send…' }));
    await userEvent.type(screen.getByLabelText('Customer ids'), '1, 2 3,3');
    expect(screen.getByTestId('recipient-count')).toHaveTextContent('3');
    await userEvent.click(screen.getByRole('button', { name: 'Confirm send' }));
    await screen.findByText(/messages queued/);
    expect(calls.find((call) => call.method === 'POST')?.body).toEqual({ customer_ids: [1, 2, 3] });
  });

  it('offers cancel for a scheduled campaign and shows its time in the viewer zone with UTC on hover', async () => {
    stubApi({
      'GET /campaigns/:id': () => ({ body: campaign({ status: 'scheduled', scheduled_at: '2030-06-01T10:00:00Z' }) }),
    });
    renderApp('/campaigns/7');
    expect(await screen.findByRole('button', { name: 'Cancel schedule' })).toBeInTheDocument();
    const time = document.querySelector('time[datetime="2030-06-01T10:00:00Z"]');
    expect(time).toHaveAttribute('title', '1 Jun 2030, 10:00 UTC');
  });

  it('offers no action on a sent campaign', async () => {
    stubApi({ 'GET /campaigns/:id': () => ({ body: campaign({ status: 'sent' }) }) });
    renderApp('/campaigns/7');
    await screen.findByRole('heading', { name: 'Summer Sale' });
    expect(screen.queryByRole('button', { name: 'Send…' })).not.toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Edit' })).not.toBeInTheDocument();
  });

  it('says which campaign is missing', async () => {
    stubApi({
      'GET /campaigns/:id': () => ({
        status: 404,
        body: { error: { code: 'CAMPAIGN_NOT_FOUND', message: 'Campaign with ID 7 not found' } },
      }),
    });
    renderApp('/campaigns/7');
    expect(await screen.findByRole('alert')).toHaveTextContent('CAMPAIGN_NOT_FOUND');
  });
});

describe('the send dialog', () => {
  it('closes on Escape, sends nothing, and gives the focus back to the Send button', async () => {
    const calls = stubApi({
      'GET /campaigns/:id': () => ({ body: campaign() }),
      'GET /customers': () => ({ body: page([]) }),
    });
    renderApp('/campaigns/7');
    const open = await screen.findByRole('button', { name: 'Send…' });
    await userEvent.click(open);
    expect(screen.getByRole('dialog')).toBeInTheDocument();
    expect(screen.getByRole('dialog')).toContainElement(document.activeElement as HTMLElement);
    await userEvent.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(open).toHaveFocus();
    expect(calls.some((call) => call.method === 'POST')).toBe(false);
  });

  it('keeps Tab inside the dialog', async () => {
    stubApi({ 'GET /campaigns/:id': () => ({ body: campaign() }), 'GET /customers': () => ({ body: page([]) }) });
    renderApp('/campaigns/7');
    await userEvent.click(await screen.findByRole('button', { name: 'Send…' }));
    const dialog = screen.getByRole('dialog');
    for (let i = 0; i < 6; i += 1) {
      await userEvent.tab();
      expect(dialog).toContainElement(document.activeElement as HTMLElement);
    }
  });
});
