import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { CUSTOMERS, page, renderApp, stubApi } from '../test/api';

describe('the customers screens', () => {
  it('lists customers and pages with the keyset cursor', async () => {
    const calls = stubApi({
      'GET /customers': (request) =>
        request.search.get('before_id') === '1'
          ? { body: page([], null) }
          : { body: page(CUSTOMERS, 1) },
    });
    renderApp('/customers');
    expect(await screen.findByRole('link', { name: 'Otieno Odhiambo' })).toBeInTheDocument();
    expect(screen.getByText('+254712000001')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Older →' }));
    expect(await screen.findByText(/No customers yet/)).toBeInTheDocument();
    expect(calls.some((call) => call.search.get('before_id') === '1')).toBe(true);
  });

  it('opens a customer from the list', async () => {
    stubApi({
      'GET /customers': () => ({ body: page(CUSTOMERS) }),
      'GET /customers/:id': () => ({ body: CUSTOMERS[1] }),
    });
    renderApp('/customers');
    await userEvent.click(await screen.findByRole('link', { name: 'Wanjirũ Kamau' }));
    expect(await screen.findByRole('heading', { name: 'Wanjirũ Kamau' })).toBeInTheDocument();
    expect(screen.getByText('Sandals')).toBeInTheDocument();
    expect(screen.getByText('Nairobi')).toBeInTheDocument();
  });

  it('names a missing customer', async () => {
    stubApi({
      'GET /customers/:id': () => ({
        status: 404,
        body: { error: { code: 'CUSTOMER_NOT_FOUND', message: 'Customer with ID 99 not found' } },
      }),
    });
    renderApp('/customers/99');
    expect(await screen.findByRole('alert')).toHaveTextContent('Customer with ID 99 not found');
  });
});
