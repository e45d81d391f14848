import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { campaign, CUSTOMERS, page, renderApp, stubApi, type Recorded } from '../test/api';

function previewAnswer(request: Recorded) {
  const { override_template: template } = request.body as { override_template: string };
  if (template.includes('{nmae}'))
    return {
      status: 422,
      body: {
        error: {
          code: 'INVALID_TEMPLATE',
          message: `body.override_template: unknown placeholder {nmae} at position ${template.indexOf('{nmae}')}; known fields: first_name, last_name`,
        },
      },
    };
  const rendered = template.replace('{first_name}', 'Otieno');
  return {
    body: {
      rendered_message: rendered,
      used_template: template,
      customer: { id: 2, first_name: 'Otieno' },
      facts: { encoding: 'GSM-7', characters: rendered.length, segments: 1, violations: [] },
    },
  };
}

const routes = {
  'GET /customers': () => ({ body: page(CUSTOMERS) }),
  'GET /campaigns': () => ({ body: page([campaign({ id: 3 })]) }),
  'GET /campaigns/:id': () => ({ body: campaign() }),
  'POST /campaigns/:id/personalized-preview': previewAnswer,
};

describe('the campaign form', () => {
  it('previews the template as you type, debounced, against a campaign of the same channel', async () => {
    const calls = stubApi(routes);
    renderApp('/campaigns/new');
    await userEvent.type(await screen.findByLabelText('Template'), 'Hi {{first_name}, welcome');
    expect(await screen.findByTestId('rendered-message')).toHaveTextContent('Hi Otieno, welcome');
    expect(screen.getByTestId('fact-characters')).toHaveTextContent('18');
    expect(screen.getByTestId('fact-encoding')).toHaveTextContent('GSM-7');
    expect(screen.getByTestId('fact-segments')).toHaveTextContent('1');
    const previews = calls.filter((call) => call.path.endsWith('/personalized-preview'));
    // one call per pause, not one per keystroke
    expect(previews.length).toBeLessThan(5);
    expect(previews[previews.length - 1]?.path).toBe('/campaigns/3/personalized-preview');
    expect(previews[previews.length - 1]?.body).toEqual({ customer_id: 2, override_template: 'Hi {first_name}, welcome' });
  });

  it('marks the placeholder a template error names', async () => {
    stubApi(routes);
    renderApp('/campaigns/new');
    await userEvent.type(await screen.findByLabelText('Template'), 'Hello {{nmae} and more');
    const problem = await screen.findByRole('alert');
    expect(problem).toHaveTextContent('unknown placeholder {nmae} at position 6');
    expect(problem.querySelector('mark')).toHaveTextContent('{nmae}');
    expect(screen.getByLabelText('Template')).toHaveAttribute('aria-invalid', 'true');
  });

  it('creates a scheduled campaign with its time converted from the chosen zone to UTC', async () => {
    const calls = stubApi({
      ...routes,
      'POST /campaigns': () => ({ status: 201, body: campaign({ id: 12 }) }),
    });
    renderApp('/campaigns/new');
    await userEvent.type(await screen.findByLabelText('Name'), 'Launch');
    await userEvent.click(screen.getByLabelText('WhatsApp'));
    await userEvent.type(screen.getByLabelText('Template'), 'Hi');
    await userEvent.click(screen.getByLabelText(/Send at a set time/));
    await userEvent.type(screen.getByLabelText('Date and time'), '2030-06-01T13:00');
    await userEvent.selectOptions(screen.getByLabelText('Time zone'), 'Africa/Nairobi');
    await userEvent.click(screen.getByLabelText('A segment'));
    await userEvent.type(screen.getByLabelText('Location'), 'Nairobi');
    await userEvent.click(screen.getByRole('button', { name: 'Create campaign' }));
    await waitFor(() => {
      expect(calls.some((call) => call.method === 'POST' && call.path === '/campaigns')).toBe(true);
    });
    expect(calls.find((call) => call.method === 'POST' && call.path === '/campaigns')?.body).toEqual({
      name: 'Launch',
      channel: 'whatsapp',
      base_template: 'Hi',
      scheduled_at: '2030-06-01T10:00:00Z',
      audience: { segment: { all: false, location: 'Nairobi', preferred_product: null } },
    });
    expect(await screen.findByRole('heading', { name: 'Summer Sale' })).toBeInTheDocument();
  });

  it('shows a create error at the field it names', async () => {
    stubApi({
      ...routes,
      'POST /campaigns': () => ({
        status: 422,
        body: { error: { code: 'VALIDATION_ERROR', message: 'body.name: String should have at least 1 character' } },
      }),
    });
    renderApp('/campaigns/new');
    await userEvent.type(await screen.findByLabelText('Template'), 'Hi');
    await userEvent.click(screen.getByRole('button', { name: 'Create campaign' }));
    expect(await screen.findByText(/String should have at least 1 character/)).toHaveAttribute('id', 'name-error');
    expect(screen.getByLabelText('Name')).toHaveAttribute('aria-invalid', 'true');
  });

  it('edits only what changed, previewing against the campaign itself', async () => {
    const calls = stubApi({
      ...routes,
      'PATCH /campaigns/:id': () => ({ body: campaign({ name: 'Summer Sale (final)' }) }),
    });
    renderApp('/campaigns/7/edit');
    const name = await screen.findByLabelText('Name');
    expect(screen.getByRole('radio', { name: 'SMS' })).toBeDisabled();
    await userEvent.type(name, ' (final)');
    await screen.findByTestId('rendered-message');
    expect(calls.find((call) => call.path.endsWith('/personalized-preview'))?.path).toBe(
      '/campaigns/7/personalized-preview',
    );
    await userEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    await waitFor(() => {
      expect(calls.some((call) => call.method === 'PATCH')).toBe(true);
    });
    expect(calls.find((call) => call.method === 'PATCH')?.body).toEqual({
      name: 'Summer Sale (final)',
      scheduled_at: null,
      audience: { customer_ids: [1, 2] },
    });
  });
});
