// A wrong key shows the sign-in again, with the reason, and nothing of the account is shown.
import { describe, expect, it } from 'vitest';
import { BASE_URL, shoot, signIn, text, visible, browserForThisFile } from './browser';

const currentPage = browserForThisFile();

describe('a wrong key', () => {
  it('is refused at the sign-in', async () => {
    const page = currentPage();
    await signIn(page, 'not-a-key-of-anybody');
    await expect.poll(() => text(page.getByRole('alert'))).toContain('That key was not accepted');
    await visible(page.getByLabel('API key'));
    await shoot(page, '14-sign-in-wrong-key');
  });

  it('stored in the tab brings the sign-in back on the first call', async () => {
    const page = currentPage();
    await page.goto(BASE_URL);
    await page.evaluate(() => {
      sessionStorage.setItem('campaign-dispatch.api-key', 'revoked-or-unknown');
    });
    await page.goto(new URL('campaigns', BASE_URL).toString());
    await visible(page.getByLabel('API key'));
    expect(await text(page.getByRole('alert'))).toContain('did not accept your key');
    expect(await page.evaluate(() => sessionStorage.getItem('campaign-dispatch.api-key'))).toBeNull();
  });
});
