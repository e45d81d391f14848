// An invalid template is shown where it is wrong: the placeholder template-svc names is marked in the form.
import { describe, expect, it } from 'vitest';
import { BASE_URL, shoot, signIn, text, visible, browserForThisFile } from './browser';

const currentPage = browserForThisFile();

describe('an invalid template', () => {
  it('shows the error at the placeholder while typing, and again when saving', async () => {
    const page = currentPage();
    await signIn(page);
    await visible(page.getByRole('heading', { name: 'Campaigns' }));
    await page.goto(new URL('campaigns/new', BASE_URL).toString());
    await page.getByLabel('Name').fill('Broken template');
    await page.getByLabel('Template', { exact: true }).pressSequentially('Hello {nmae}, see you', { delay: 10 });
    const problem = page.locator('#template-error');
    await expect.poll(() => text(problem)).toContain('unknown placeholder {nmae} at position 6');
    expect(await text(problem.locator('mark'))).toBe('{nmae}');
    expect(await page.getByLabel('Template', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await shoot(page, '13-invalid-template');
    await page.getByRole('button', { name: 'Create campaign' }).click();
    await expect.poll(() => text(problem)).toContain('unknown placeholder {nmae}');
    expect(page.url()).toMatch(/\/campaigns\/new$/);
  });
});
