import { formatLocal, formatUtc } from '../time';

/** An instant in the viewer's zone; UTC on hover (title) and in the machine-readable dateTime. */
export function Time({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={formatUtc(iso)}>
      {formatLocal(iso)}
    </time>
  );
}
