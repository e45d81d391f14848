import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { campaign, page, renderApp, stubApi } from '../test/api';

describe('the campaigns list', () => {
  it('shows the campaigns newest first with their status badges', async () => {
    stubApi({
      'GET /campaigns': () => ({
        body: page([
          campaign({ id: 9, name: 'Flash', status: 'sending' }),
          campaign({ id: 8, name: 'Welcome', status: 'sent', channel: 'whatsapp' }),
        ]),
      }),
    });
    renderApp('/campaigns');
    const rows = await screen.findAllByRole('row');
    expect(rows).toHaveLength(3);
    expect(within(rows[1] as HTMLElement).getByText('Flash')).toBeInTheDocument();
    expect(within(rows[1] as HTMLElement).getByText('sending')).toHaveClass('badge-sending');
    expect(within(rows[2] as HTMLElement).getByText('WhatsApp')).toBeInTheDocument();
  });

  it('says so when nothing matches the filters, and sends the filters to the API', async () => {
    const calls = stubApi({ 'GET /campaigns': () => ({ body: page([]) }) });
    renderApp('/campaigns');
    expect(await screen.findByText('No campaigns yet.')).toBeInTheDocument();
    await userEvent.selectOptions(screen.getByLabelText('Channel'), 'whatsapp');
    await userEvent.selectOptions(screen.getByLabelText('Status'), 'failed');
    expect(await screen.findByText('No campaign matches these filters.')).toBeInTheDocument();
    const last = calls[calls.length - 1];
    expect(last?.search.get('channel')).toBe('whatsapp');
    expect(last?.search.get('status')).toBe('failed');
  });

  it('pages with the keyset cursor: Older sends before_id = next_cursor, Newer goes back', async () => {
    const calls = stubApi({
      'GET /campaigns': (request) =>
        request.search.get('before_id') === '30'
          ? { body: page([campaign({ id: 29, name: 'Older one' })], null) }
          : { body: page([campaign({ id: 31, name: 'Newest one' })], 30) },
    });
    renderApp('/campaigns');
    expect(await screen.findByText('Newest one')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: '← Newer' })).toBeDisabled();
    await userEvent.click(screen.getByRole('button', { name: 'Older →' }));
    expect(await screen.findByText('Older one')).toBeInTheDocument();
    expect(calls.some((call) => call.search.get('before_id') === '30')).toBe(true);
    expect(screen.getByRole('button', { name: 'Older →' })).toBeDisabled();
    await userEvent.click(screen.getByRole('button', { name: '← Newer' }));
    expect(await screen.findByText('Newest one')).toBeInTheDocument();
  });

  it('shows the API error with its code and retries on request', async () => {
    let fail = true;
    stubApi({
      'GET /campaigns': () =>
        fail
          ? { status: 503, body: { error: { code: 'DATABASE_UNAVAILABLE', message: 'PostgreSQL is away' } } }
          : { body: page([campaign()]) },
    });
    renderApp('/campaigns');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('PostgreSQL is away');
    expect(alert).toHaveTextContent('DATABASE_UNAVAILABLE');
    fail = false;
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    await waitFor(() => {
      expect(screen.getByText('Summer Sale')).toBeInTheDocument();
    });
  });

  it('shows a loading state first', () => {
    stubApi({});
    renderApp('/campaigns');
    expect(screen.getByRole('status')).toHaveTextContent('Loading campaigns');
  });
});
