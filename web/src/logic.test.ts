import { describe, expect, it } from 'vitest';
import { describeAudience, parseIds } from './audience';
import { progressOf } from './components/ProgressBar';
import { describeExpectedSegments } from './segments';
import { locateTemplateProblem } from './templateError';
import { utcToZoned, zonedToUtc } from './time';

describe('time zones', () => {
  it('turns a wall clock in a zone into the UTC instant', () => {
    expect(zonedToUtc('2030-06-01T13:00', 'Africa/Nairobi')).toBe('2030-06-01T10:00:00Z');
    expect(zonedToUtc('2030-01-15T09:30', 'America/New_York')).toBe('2030-01-15T14:30:00Z');
    expect(zonedToUtc('2030-07-15T09:30', 'America/New_York')).toBe('2030-07-15T13:30:00Z');
    expect(zonedToUtc('2030-06-01T13:00', 'UTC')).toBe('2030-06-01T13:00:00Z');
    expect(zonedToUtc('2030-06-01', 'UTC')).toBeNull();
  });

  it('round-trips through the zone', () => {
    expect(utcToZoned('2030-06-01T10:00:00Z', 'Africa/Nairobi')).toBe('2030-06-01T13:00');
    expect(utcToZoned('2030-07-15T13:30:00Z', 'America/New_York')).toBe('2030-07-15T09:30');
  });
});

describe('template problems', () => {
  it('finds the placeholder the message names', () => {
    const problem = locateTemplateProblem(
      'Hi {nmae}!',
      'body.base_template: unknown placeholder {nmae} at position 3; known fields: first_name',
    );
    expect(problem).toEqual({
      code: null,
      message: 'unknown placeholder {nmae} at position 3; known fields: first_name',
      start: 3,
      end: 9,
    });
  });

  it('marks one character for a stray brace, and nothing when no position is given', () => {
    expect(locateTemplateProblem('Hi } there', "template: '}' at position 3 has no opening '{'")).toMatchObject({
      start: 3,
      end: 4,
    });
    expect(
      locateTemplateProblem('Hi {x}', 'body.override_template: UNKNOWN_PLACEHOLDER: unknown placeholder {x} at position 3'),
    ).toEqual({ code: 'UNKNOWN_PLACEHOLDER', message: 'unknown placeholder {x} at position 3', start: 3, end: 6 });
    expect(locateTemplateProblem('Hi', 'body.base_template: too long')).toEqual({
      code: null,
      message: 'too long',
      start: null,
      end: null,
    });
  });
});

describe('progress', () => {
  it('counts every status that is neither pending nor sending as done, receipts not twice', () => {
    const stats = {
      total: 10,
      pending: 2,
      sending: 1,
      sent: 3,
      failed: 1,
      suppressed: 2,
      expired: 0,
      cancelled: 1,
      delivered: 2,
      undelivered: 1,
      read: 1,
    };
    const progress = progressOf(stats);
    expect(progress.done).toBe(7);
    expect(progress.percent).toBe(70);
    expect(progress.parts.map(([name]) => name)).toEqual([
      'sent',
      'failed',
      'suppressed',
      'expired',
      'cancelled',
      'sending',
      'pending',
    ]);
  });
});

describe('audiences', () => {
  it('parses typed ids', () => {
    expect(parseIds('1, 2 3,,3')).toEqual([1, 2, 3]);
    expect(parseIds('1, x')).toBeNull();
    expect(parseIds('0')).toBeNull();
    expect(parseIds('')).toBeNull();
  });

  it('describes who an audience reaches', () => {
    expect(describeAudience(null)).toMatch(/none stored/);
    expect(describeAudience({ customer_ids: [1, 1, 2] })).toBe('2 customers by id');
    expect(describeAudience({ segment: { all: true } })).toBe('every customer');
    expect(describeAudience({ segment: { all: false, location: 'Nairobi', preferred_product: 'Shoes' } })).toBe(
      'customers whose location is Nairobi and preferred product is Shoes',
    );
  });
});

describe('expected segments of a send', () => {
  const answer = { campaign_id: 1, status: 'sending' as const, suppressed: 0 };
  it('is exact when every message was rendered, an estimate from the first ones otherwise', () => {
    const exact = { ...answer, messages_queued: 3, expected_segments: 2, expected_segments_total: 4, expected_segments_sampled: 3 };
    expect(describeExpectedSegments(exact, 'sms')).toBe('4 SMS segments in all, at most 2 per message.');
    const sampled = { ...exact, messages_queued: 1000, expected_segments_total: 1500, expected_segments_sampled: 100 };
    expect(describeExpectedSegments(sampled, 'sms')).toBe(
      'About 1500 SMS segments in all (estimated from the first 100 messages; at most 2 per message among them).',
    );
  });
  it('says nothing when template-svc gave no figure, or for WhatsApp', () => {
    const unknown = { ...answer, messages_queued: 3, expected_segments: null, expected_segments_total: null, expected_segments_sampled: 0 };
    expect(describeExpectedSegments(unknown, 'sms')).toBeNull();
    const whatsapp = { ...answer, messages_queued: 3, expected_segments: 1, expected_segments_total: 3, expected_segments_sampled: 0 };
    expect(describeExpectedSegments(whatsapp, 'whatsapp')).toBeNull();
  });
});
