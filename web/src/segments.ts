import type { SendResult } from './api/client';

/** The send answer's expected SMS segments in words: exact when every message was rendered, else an estimate from
 * the first ones; null when template-svc gave no figure (or for WhatsApp, where messages have no segments). */
export function describeExpectedSegments(sent: SendResult, channel: string): string | null {
  const total = sent.expected_segments_total;
  const most = sent.expected_segments;
  const sampled = sent.expected_segments_sampled;
  if (channel !== 'sms' || total == null || most == null || sampled === 0) return null;
  const plural = (n: number) => `${n} SMS segment${n === 1 ? '' : 's'}`;
  if (sampled >= sent.messages_queued) return `${plural(total)} in all, at most ${most} per message.`;
  return `About ${plural(total)} in all (estimated from the first ${sampled} messages; at most ${most} per message among them).`;
}
