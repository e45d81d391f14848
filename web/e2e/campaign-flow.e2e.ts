// The operator's whole path on the real stack: sign in, create a campaign while the preview follows the typing,
// send it to the seeded customers and watch the progress bar reach done; the customers screens on the way.
import { describe, expect, it } from 'vitest';
import { apiGet, BASE_URL, shoot, signIn, text, visible, browserForThisFile } from './browser';

const NAME = `Dashboard launch ${Date.now().toString(36)}`;
const currentPage = browserForThisFile();

describe('the campaign flow', () => {
  it('signs in and lists the campaigns', async () => {
    const page = currentPage();
    await page.goto(BASE_URL);
    await visible(page.getByLabel('API key'));
    await shoot(page, '01-sign-in');
    await signIn(page);
    await visible(page.getByRole('heading', { name: 'Campaigns' }));
    await visible(page.getByRole('table'));
    await shoot(page, '02-campaigns');
  });

  it('creates a campaign, the preview changing as the template is typed', async () => {
    const page = currentPage();
    await page.getByRole('link', { name: 'New campaign' }).click();
    await visible(page.getByRole('heading', { name: 'New campaign' }));
    await page.getByLabel('Name').fill(NAME);
    await page.getByRole('radio', { name: 'SMS' }).check();
    const template = page.getByLabel('Template', { exact: true });
    const rendered = page.getByTestId('rendered-message');
    const characters = page.getByTestId('fact-characters');
    await template.pressSequentially('Hi {first_name|there},', { delay: 15 });
    await expect.poll(() => text(rendered)).toMatch(/^Hi [^{}]+,$/);
    const greeting = await text(rendered);
    const before = Number(await text(characters));
    await template.pressSequentially(' your order ships today', { delay: 15 });
    await expect.poll(() => text(rendered)).toBe(`${greeting} your order ships today`);
    await expect.poll(async () => Number(await text(characters))).toBe(before + ' your order ships today'.length);
    expect(await text(page.getByTestId('fact-encoding'))).toMatch(/^(GSM-7|UCS-2)$/);
    expect(await text(page.getByTestId('fact-segments'))).toBe('1');
    await page.getByRole('radio', { name: 'Every customer' }).check();
    await shoot(page, '03-new-campaign');
    await page.getByRole('button', { name: 'Create campaign' }).click();
    await visible(page.getByRole('heading', { name: NAME }));
    expect(await text(page.locator('.meta .badge'))).toBe('draft');
    await shoot(page, '04-campaign-draft');
  });

  it('sends it to the seeded customers and watches the progress bar reach done', async () => {
    const page = currentPage();
    const customers = (await apiGet('/customers?page_size=1')) as { pagination: { total_count: number } };
    const recipients = customers.pagination.total_count;
    expect(recipients).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Send…' }).click();
    const dialog = page.getByRole('dialog');
    await expect.poll(() => text(dialog.getByTestId('recipient-count'))).toBe(String(recipients));
    await shoot(page, '05-send-confirm');
    await dialog.getByRole('button', { name: 'Confirm send' }).click();
    const queued = page.locator('.notice');
    // the answer's segment figures: exact, since every recipient's message was rendered (at most 100), one segment each
    await expect
      .poll(() => text(queued))
      .toBe(`${recipients} messages queued. ${recipients} SMS segments in all, at most 1 per message.`);
    await shoot(page, '06-campaign-sending');
    const bar = page.getByRole('progressbar');
    await expect
      .poll(() => bar.getAttribute('aria-valuenow'), { timeout: 60_000, interval: 250 })
      .toBe(String(recipients));
    await expect.poll(() => text(page.locator('.meta .badge')), { timeout: 30_000 }).toBe('sent');
    await visible(page.getByText(`Done: ${recipients} of ${recipients} messages processed`));
    await shoot(page, '07-campaign-done');
  });

  it('finds the campaign in the list by its status', async () => {
    const page = currentPage();
    await page.getByRole('link', { name: '← Campaigns' }).click();
    await page.getByLabel('Status').selectOption('sent');
    await visible(page.getByRole('link', { name: NAME }));
    await expect.poll(() => page.locator('tbody .badge:not(.badge-sent)').count()).toBe(0);
    expect(await text(page.getByRole('row').filter({ hasText: NAME }).locator('.badge'))).toBe('sent');
    await shoot(page, '08-campaigns-filtered');
  });

  it('edits a scheduled campaign, then takes it off the schedule', async () => {
    const page = currentPage();
    await page.getByLabel('Status').selectOption('scheduled');
    // the previous filter's rows stay until the new page arrives: wait for the scheduled one
    const row = page.getByRole('row').filter({ has: page.locator('.badge-scheduled') }).first();
    await visible(row);
    await expect.poll(() => page.locator('tbody .badge:not(.badge-scheduled)').count()).toBe(0);
    const first = row.getByRole('link');
    const name = await text(first);
    await first.click();
    await visible(page.getByRole('heading', { name }));
    expect(await text(page.locator('.meta .badge'))).toBe('scheduled');
    await shoot(page, '09-campaign-scheduled');
    await page.getByRole('link', { name: 'Edit' }).click();
    await visible(page.getByRole('heading', { name: 'Edit campaign' }));
    await visible(page.getByLabel('Time zone'));
    expect(await page.getByLabel('Time zone').inputValue()).toBe('Africa/Nairobi');
    await shoot(page, '10-edit-campaign');
    await page.getByLabel('Name').fill(`${name} (edited)`);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await visible(page.getByRole('heading', { name: `${name} (edited)` }));
    expect(await text(page.locator('.meta .badge'))).toBe('scheduled');
    await page.getByRole('button', { name: 'Cancel schedule' }).click();
    await expect.poll(() => text(page.locator('.meta .badge'))).toBe('draft');
    await visible(page.getByText('Not scheduled: sent when you send it.'));
  });

  it('lists the customers and opens one', async () => {
    const page = currentPage();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await visible(page.getByRole('heading', { name: 'Customers' }));
    await visible(page.getByRole('table'));
    await shoot(page, '11-customers');
    const link = page.getByRole('table').getByRole('link').first();
    const name = await text(link);
    await link.click();
    await visible(page.getByRole('heading', { name }));
    await visible(page.getByText('Phone (E.164)'));
    await shoot(page, '12-customer-detail');
  });

  it('is keyboard reachable, with a visible focus', async () => {
    const page = currentPage();
    await page.goto(new URL('campaigns', BASE_URL).toString());
    await visible(page.getByRole('table'));
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    const outline = await page.evaluate(() =>
      document.activeElement === null ? 'none' : getComputedStyle(document.activeElement).outlineStyle,
    );
    expect(outline).not.toBe('none');
    // Tab on from the skip link: the navigation, sign out, then the page's own controls, in order
    const reached: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => document.activeElement?.textContent.trim() ?? ''));
    }
    expect(reached.slice(0, 4)).toEqual(['Campaigns', 'Customers', 'Sign out', 'New campaign']);
  });
});
