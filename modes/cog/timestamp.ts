// Cog's Python server wrote timestamps with datetime.isoformat() on UTC datetimes: six fractional
// digits and a +00:00 offset. JavaScript clocks have milliseconds, so the last three digits are 0.

/**
 * A time as Cog writes it.
 * @example cogTimestamp(Date.UTC(2024, 4, 1, 10, 20, 30, 123)) // '2024-05-01T10:20:30.123000+00:00'
 */
export function cogTimestamp(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 23)}000+00:00`;
}

// RFC 3339 date-times (what pydantic parsed for `created_at`), with or without seconds, fraction
// and offset; no offset means UTC, as Cog took it.
const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}:?\d{2})?$/;

/** Epoch milliseconds of an RFC 3339 date-time, or undefined when the text is not one. */
export function parseTimestamp(text: string): number | undefined {
  const match = rfc3339.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second = '0', fraction = '', zone = 'Z'] = match;
  const fields = [year, month, day, hour, minute, second].map(Number) as [number, number, number, number, number, number];
  const [y, mo, d, h, mi, s] = fields;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  let epoch = Date.UTC(y, mo - 1, d, h, mi, s, Number(fraction.padEnd(3, '0').slice(0, 3)));
  // Date.UTC rolls 31 February over into March: a day the month does not have is no date.
  if (new Date(epoch).getUTCDate() !== d) return undefined;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const [offsetHours, offsetMinutes] = [Number(digits.slice(0, 2)), Number(digits.slice(2))];
    if (offsetHours > 23 || offsetMinutes > 59) return undefined;
    epoch -= sign * (offsetHours * 60 + offsetMinutes) * 60_000;
  }
  return epoch;
}
