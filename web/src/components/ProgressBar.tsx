// A campaign's messages by status as one stacked bar. Status counts the API adds later get a segment of their own
// without a change here: every numeric field but `total` and the receipt counts is drawn.
import type { Stats } from '../api/client';

const ORDER = ['sent', 'failed', 'suppressed', 'expired', 'cancelled', 'sending', 'pending'];
/** Counts of messages not finished yet; everything else is done, whatever it is called. */
const IN_FLIGHT = new Set(['pending', 'sending']);
/** Delivery receipts count messages already counted as sent: not statuses of their own, so not drawn. */
const RECEIPTS = new Set(['delivered', 'undelivered', 'read']);

export function progressOf(stats: Stats & Record<string, unknown>) {
  const parts = Object.entries(stats)
    .filter(
      (entry): entry is [string, number] =>
        entry[0] !== 'total' && !RECEIPTS.has(entry[0]) && typeof entry[1] === 'number',
    )
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
  const total = stats.total;
  const done = parts.filter(([name]) => !IN_FLIGHT.has(name)).reduce((sum, [, count]) => sum + count, 0);
  return { parts, total, done, percent: total === 0 ? 0 : Math.round((done / total) * 100) };
}

function rank(name: string): number {
  const index = ORDER.indexOf(name);
  return index === -1 ? ORDER.length : index;
}

export function ProgressBar({ stats, finished }: { stats: Stats; finished: boolean }) {
  const { parts, total, done, percent } = progressOf(stats);
  if (total === 0) return <p className="muted">No messages yet: the campaign has not been sent.</p>;
  const label = finished ? `Done: ${done} of ${total} messages processed` : `${done} of ${total} messages processed`;
  return (
    <div className="progress">
      <div
        className="progress-track"
        role="progressbar"
        aria-label="Messages processed"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={done}
        aria-valuetext={`${label} (${percent}%)`}
      >
        {parts
          .filter(([, count]) => count > 0)
          .map(([name, count]) => (
            <span
              key={name}
              className={`progress-part part-${name}`}
              style={{ width: `${(count / total) * 100}%` }}
              title={`${name}: ${count}`}
            />
          ))}
      </div>
      <p className="progress-label" aria-live="polite">
        <strong>{percent}%</strong> · {label}
      </p>
      <ul className="legend">
        {parts.map(([name, count]) => (
          <li key={name}>
            <span className={`swatch part-${name}`} aria-hidden="true" /> {name} <strong>{count}</strong>
          </li>
        ))}
      </ul>
    </div>
  );
}
