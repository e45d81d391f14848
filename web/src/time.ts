// Times: the API speaks UTC ("...Z"); the screens show the viewer's zone, with UTC on hover.

const local = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const utc = new Intl.DateTimeFormat('en-GB', {
  dateStyle: 'medium',
  timeStyle: 'short',
  timeZone: 'UTC',
});

export function formatLocal(iso: string): string {
  return local.format(new Date(iso));
}

export function formatUtc(iso: string): string {
  return `${utc.format(new Date(iso))} UTC`;
}

export function viewerTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function timeZones(): string[] {
  const zones = Intl.supportedValuesOf('timeZone');
  return zones.includes('UTC') ? zones : ['UTC', ...zones];
}

/** The zone's offset from UTC at an instant, in minutes (east positive). */
function offsetMinutes(timeZone: string, instant: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - instant) / 60_000);
}

/**
 * A wall-clock time ("2030-06-01T13:00", as an <input type="datetime-local"> gives it) in a named zone, as a UTC
 * instant in RFC 3339 with "Z"; null when the input is not a complete date and time.
 */
export function zonedToUtc(wallClock: string, timeZone: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(wallClock);
  if (match === null) return null;
  const [, year, month, day, hour, minute] = match.map(Number) as [number, number, number, number, number, number];
  const naive = Date.UTC(year, month - 1, day, hour, minute);
  // two rounds settle the offset even when the first guess falls on the other side of a DST change
  let instant = naive - offsetMinutes(timeZone, naive) * 60_000;
  instant = naive - offsetMinutes(timeZone, instant) * 60_000;
  return new Date(instant).toISOString().replace('.000Z', 'Z');
}

/** A UTC instant as the wall clock of a zone, in the datetime-local input's format. */
export function utcToZoned(iso: string, timeZone: string): string {
  const instant = new Date(iso).getTime();
  const shifted = new Date(instant + offsetMinutes(timeZone, instant) * 60_000);
  return shifted.toISOString().slice(0, 16);
}
