import type { Audience } from './api/client';

/** One line saying who an audience reaches. */
export function describeAudience(audience: Audience | null | undefined): string {
  if (audience == null) return 'none stored (give customer ids when sending)';
  if (audience.customer_ids) {
    const count = new Set(audience.customer_ids).size;
    return `${count} customer${count === 1 ? '' : 's'} by id`;
  }
  const segment = audience.segment;
  if (segment == null || segment.all) return 'every customer';
  const fields = [
    segment.location ? `location is ${segment.location}` : null,
    segment.preferred_product ? `preferred product is ${segment.preferred_product}` : null,
  ].filter((field) => field !== null);
  return `customers whose ${fields.join(' and ')}`;
}

/** Customer ids typed as "1, 2 3"; null unless every token is a positive integer. Duplicates collapse. */
export function parseIds(text: string): number[] | null {
  const tokens = text.split(/[\s,]+/).filter((token) => token !== '');
  if (tokens.length === 0 || !tokens.every((token) => /^[1-9]\d*$/.test(token))) return null;
  return [...new Set(tokens.map(Number))];
}
