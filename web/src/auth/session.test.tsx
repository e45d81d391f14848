import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { campaign, page, renderApp, stubApi, UNAUTHENTICATED } from '../test/api';
import { STORAGE_KEY } from './session';

describe('the session', () => {
  it('sends the key as a bearer token on every request', async () => {
    const calls = stubApi({ 'GET /campaigns': () => ({ body: page([campaign()]) }) });
    renderApp('/campaigns', 'key-123');
    expect(await screen.findByRole('link', { name: 'Summer Sale' })).toBeInTheDocument();
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) expect(call.headers.get('Authorization')).toBe('Bearer key-123');
  });

  it('brings the sign-in back when the API answers 401, and forgets the key', async () => {
    stubApi({ 'GET /campaigns': () => UNAUTHENTICATED });
    renderApp('/campaigns', 'revoked-key');
    expect(await screen.findByLabelText('API key')).toBeInTheDocument();
    expect(screen.getByRole('alert')).toHaveTextContent('did not accept your key');
    expect(sessionStorage.getItem(STORAGE_KEY)).toBeNull();
    expect(screen.queryByRole('navigation', { name: 'Main' })).not.toBeInTheDocument();
  });

  it('a 401 on a later call (here the detail) also signs out', async () => {
    stubApi({ 'GET /campaigns/:id': () => UNAUTHENTICATED });
    renderApp('/campaigns/7', 'stale-key');
    expect(await screen.findByLabelText('API key')).toBeInTheDocument();
  });

  it('signs in with a key the API accepts and keeps it in sessionStorage', async () => {
    const calls = stubApi({ 'GET /campaigns': () => ({ body: page([campaign()]) }) });
    renderApp('/campaigns', null);
    await userEvent.type(screen.getByLabelText('API key'), 'good-key');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('link', { name: 'Summer Sale' })).toBeInTheDocument();
    expect(sessionStorage.getItem(STORAGE_KEY)).toBe('good-key');
    expect(calls.every((call) => call.headers.get('Authorization') === 'Bearer good-key')).toBe(true);
  });

  it('refuses a key the API answers 401 to, and stays on the sign-in', async () => {
    stubApi({ 'GET /campaigns': () => UNAUTHENTICATED });
    renderApp('/campaigns', null);
    await userEvent.type(screen.getByLabelText('API key'), 'wrong-key');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('That key was not accepted');
    expect(sessionStorage.getItem(STORAGE_KEY)).toBeNull();
  });

  it('signing out forgets the key', async () => {
    stubApi({ 'GET /campaigns': () => ({ body: page([]) }) });
    renderApp('/campaigns');
    await userEvent.click(await screen.findByRole('button', { name: 'Sign out' }));
    await waitFor(() => {
      expect(screen.getByLabelText('API key')).toBeInTheDocument();
    });
    expect(sessionStorage.getItem(STORAGE_KEY)).toBeNull();
  });
});
